//! The parts of the access response that read beyond the export: the keep date, the recipients
//! by name, the access-log summary and the source.

use super::api::*;
use super::labels::label;
use super::ledger;
use super::texts::criterion;
use crate::activities::api::ActivityBody;
use crate::domain::ids::SubjectId;
use crate::domain::language::Language;
use crate::domain::retention::{due_on, kept_through};
use crate::error::{ApiError, ApiResult};
use crate::rights::export::SubjectExport;
use diesel::PgConnection;
use serde_json::Value;

/// The person's own keep date by v2's rule for their kind, with the active holds.
pub fn retention(
    conn: &mut PgConnection,
    export: &SubjectExport,
    activities: &[(String, ActivityBody)],
    lang: Language,
) -> ApiResult<AccessRetention> {
    let subject = &export.subject;
    let rule = crate::retention::model::all_rules(conn)?
        .into_iter()
        .find(|r| r.subject_kind == subject.kind);
    // Without a rule, the criterion an activity covering the person declares, if any.
    let declared = activities
        .iter()
        .filter_map(|(_, a)| a.retention.as_ref()?.criterion.as_ref())
        .map(|c| match lang {
            Language::Et => c.et.clone(),
            _ => c.en.clone(),
        })
        .next();
    let keep = rule.as_ref().map(|r| r.months());
    Ok(AccessRetention {
        keep_until: keep.and_then(|m| kept_through(subject.last_activity_at, m)),
        due_from: keep.and_then(|m| due_on(subject.last_activity_at, m)),
        criterion: criterion(
            lang,
            rule.as_ref()
                .map(|r| (r.keep_months, r.legal_basis.as_str())),
            declared.as_deref(),
        ),
        rule: rule.map(|r| AccessRetentionRule {
            subject_kind: r.subject_kind,
            keep_months: r.keep_months,
            legal_basis: r.legal_basis,
        }),
        holds: export
            .holds
            .iter()
            .filter(|h| h.released_at.is_none())
            .map(|h| AccessHold {
                ground: h.ground.as_str().to_owned(),
                review_on: h.review_on,
            })
            .collect(),
    })
}

/// Every recipient of the person's data by name, with its notices and their outcomes.
pub fn recipients(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<AccessRecipient>> {
    let notices = ledger::notices(conn, subject)?;
    Ok(ledger::recipients(conn, subject)?
        .into_iter()
        .map(|r| AccessRecipient {
            notices: notices
                .iter()
                .filter(|n| n.recipient_id == r.recipient_id)
                .map(|n| AccessNotice {
                    kind: n.kind.clone(),
                    outcome: n.outcome.clone(),
                })
                .collect(),
            recipient_id: r.recipient_id,
            name: r.name,
            registry_code: r.registry_code,
            category: r.category,
            data_categories: r.data_categories,
            first_disclosed_at: r.first_at,
            last_disclosed_at: r.last_at,
            count: r.count,
        })
        .collect())
}

/// The access log about the person summed per day, each action in words; the organisation is a
/// recipient or, for everything else, the controller.
pub fn summary(
    conn: &mut PgConnection,
    subject: SubjectId,
    lang: Language,
) -> ApiResult<Vec<AccessLogSummaryRow>> {
    let controller = crate::controller::current();
    Ok(ledger::summary(conn, subject)?
        .into_iter()
        .map(|row| AccessLogSummaryRow {
            date: row.day,
            label: label(&row.action, lang),
            action: row.action,
            actor_kind: row.actor_kind,
            organisation: match row.recipient_name {
                Some(name) => AccessOrganisation {
                    name,
                    registry_code: row.recipient_code,
                },
                None => AccessOrganisation {
                    name: controller.name.clone(),
                    registry_code: controller
                        .registry_code
                        .as_ref()
                        .map(|c| c.as_str().to_owned()),
                },
            },
            purpose: row.purpose,
            count: row.count,
        })
        .collect())
}

/// The record's `source` with `art14`, taken from the export's subject record (null when the
/// data came from the person).
pub fn source(export: &SubjectExport) -> ApiResult<Value> {
    let subject = serde_json::to_value(&export.subject).map_err(ApiError::internal)?;
    let mut source = serde_json::to_value(&export.subject.source).map_err(ApiError::internal)?;
    if let Value::Object(map) = &mut source {
        map.insert(
            "art14".to_owned(),
            subject.get("art14").cloned().unwrap_or(Value::Null),
        );
    }
    Ok(source)
}
