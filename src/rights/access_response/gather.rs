//! Builds the access response in one read-only snapshot, so that its parts agree with each
//! other: the export, then what Art. 15 adds, each part from the resource that owns it.

use super::api::*;
use super::parts::{recipients, retention, source, summary};
use super::texts::{pick, RIGHTS};
use crate::activities::api::{ActivityBody, RecordCategory, Transfer};
use crate::domain::ids::SubjectId;
use crate::domain::language::Language;
use crate::error::{ApiError, ApiResult};
use crate::rights::export::{gather_in, SubjectExport};
use chrono::{SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::Value;
use std::collections::BTreeSet;

/// The access response about `subject` in `lang`: 404 for an unknown subject, 410 for an erased
/// one (the export decides, through the subject's standing).
pub fn build(
    conn: &mut PgConnection,
    subject: SubjectId,
    lang: Language,
) -> ApiResult<AccessResponse> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| build_in(conn, subject, lang))
}

pub fn build_in(
    conn: &mut PgConnection,
    id: SubjectId,
    lang: Language,
) -> ApiResult<AccessResponse> {
    // The person's document: what is withheld from them now is left out (staff exports keep it).
    let export = gather_in(conn, id)?;
    let export = super::withheld::as_shown(conn, id, export)?;
    let kind = export.subject.kind.clone();
    let activities = activities_covering(conn, &kind)?;
    let held = held_categories(&export);
    let configured = crate::controller::current();
    let mut purposes: Vec<AccessPurpose> = activities
        .iter()
        .map(|(activity_id, a)| AccessPurpose {
            id: activity_id.clone(),
            kind: "activity".to_owned(),
            name: bilingual(lang, &a.name.et, &a.name.en),
            legal_basis: a.legal_basis.as_ref().map(|b| AccessLegalBasis {
                article: b.article,
                reference: b.reference.clone(),
            }),
            categories: declared_held(&a.data_categories, &held),
        })
        .collect();
    purposes.extend(consent_purposes(conn, &export, &activities, &held, lang)?);
    let mut recipient_categories: Vec<String> = activities
        .iter()
        .flat_map(|(_, a)| a.recipient_categories.iter().map(|c| c.as_str().to_owned()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if recipient_categories.is_empty() {
        recipient_categories = export
            .recipient_categories
            .iter()
            .map(|c| c.id.clone())
            .collect();
    }
    let mut transfers: Vec<Transfer> = Vec::new();
    for t in activities.iter().flat_map(|(_, a)| a.transfers.iter()) {
        let same = |u: &Transfer| u.country == t.country && u.reference == t.reference;
        if !transfers.iter().any(same) {
            transfers.push(t.clone());
        }
    }
    let retention = retention(conn, &export, &activities, lang)?;
    let recipients = recipients(conn, id)?;
    let access_log_summary = summary(conn, id, lang)?;
    let email = configured.email.clone();
    let rights = RIGHTS
        .iter()
        .map(|(right, article, endpoint, et, en, ru)| AccessRight {
            right: (*right).to_owned(),
            article: (*article).to_owned(),
            how: pick(lang, et, en, ru).replace("{email}", &email),
            endpoint: endpoint.replace("{id}", &id.to_string()),
        })
        .collect();
    let authority = &configured.authority;
    Ok(AccessResponse {
        confirmation: AccessConfirmation {
            processing: true,
            subject_id: id.uuid(),
            controller: AccessController {
                name: configured.name.clone(),
                registry_code: configured
                    .registry_code
                    .as_ref()
                    .map(|c| c.as_str().to_owned()),
                address: configured.address.clone(),
                email,
            },
        },
        source: source(&export)?,
        personal_data: export,
        automated_decision_making: "none".to_owned(),
        purposes,
        recipients,
        recipient_categories,
        retention,
        third_country_transfers: transfers,
        complaint: AccessComplaint {
            authority: authority.name.clone(),
            address: authority.address.clone(),
            email: authority.email.clone(),
            url: authority.url.clone(),
        },
        rights,
        access_log_summary,
        generated_at: Utc::now().trunc_subsecs(6),
        lang,
    })
}

/// A text kept in Estonian and English; Russian readers get the English one, the register
/// keeping no Russian.
fn bilingual(lang: Language, et: &str, en: &str) -> String {
    pick(lang, et, en, en).to_owned()
}

/// The active processing activities (D) whose subject kinds include `kind`, by id.
fn activities_covering(
    conn: &mut PgConnection,
    kind: &str,
) -> ApiResult<Vec<(String, ActivityBody)>> {
    let mut out = Vec::new();
    for version in crate::activities::model::active_at(conn, Utc::now())? {
        let body: ActivityBody = serde_json::from_value(version.doc).map_err(ApiError::internal)?;
        if body.subject_kinds.iter().any(|k| k.as_str() == kind) {
            out.push((version.activity_id.to_string(), body));
        }
    }
    Ok(out)
}

/// The record categories that the person's record actually holds.
fn held_categories(export: &SubjectExport) -> BTreeSet<&'static str> {
    let s = &export.subject;
    let non_empty = |v: &Value| v.as_array().is_some_and(|a| !a.is_empty());
    [
        (
            "identity",
            !s.given_name.is_empty() || !s.family_name.is_empty(),
        ),
        ("contact", s.email.is_some() || s.phone.is_some()),
        ("address", s.address.is_some()),
        ("personal_code", s.personal_code.is_some()),
        ("consent_records", non_empty(&export.consent_history)),
        (
            "disclosure_records",
            non_empty(&export.disclosures) || non_empty(&export.disclosure_authorizations),
        ),
        ("request_records", non_empty(&export.privacy_requests)),
        ("access_log", non_empty(&export.access_log)),
    ]
    .into_iter()
    .filter_map(|(name, held)| held.then_some(name))
    .collect()
}

fn declared_held(declared: &[RecordCategory], held: &BTreeSet<&'static str>) -> Vec<String> {
    declared
        .iter()
        .map(|c| c.as_str())
        .filter(|c| held.contains(c))
        .map(str::to_owned)
        .collect()
}

#[derive(QueryableByName)]
struct PurposeText {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    basis: String,
    #[diesel(sql_type = Text)]
    et: String,
    #[diesel(sql_type = Text)]
    en: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    ru: Option<String>,
}

/// Each consent purpose whose flag is eligible now: opt-in ones rest on consent (6(1)(a)),
/// opt-out ones on the legitimate interest in direct marketing (6(1)(f)).
fn consent_purposes(
    conn: &mut PgConnection,
    export: &SubjectExport,
    activities: &[(String, ActivityBody)],
    held: &BTreeSet<&'static str>,
    lang: Language,
) -> ApiResult<Vec<AccessPurpose>> {
    let eligible: BTreeSet<&str> = export
        .consents
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["eligible"].as_bool() == Some(true))
        .filter_map(|c| c["purpose"].as_str())
        .collect();
    let texts: Vec<PurposeText> = diesel::sql_query(
        "SELECT p.id, p.basis, p.description_et AS et, p.description_en AS en, v.text_ru AS ru \
         FROM purposes p LEFT JOIN purpose_versions v \
           ON v.purpose_id = p.id AND v.version = p.current_version \
         ORDER BY p.id",
    )
    .load(conn)?;
    Ok(texts
        .into_iter()
        .filter(|p| eligible.contains(p.id.as_str()))
        .map(|p| {
            let declared: Vec<RecordCategory> = activities
                .iter()
                .filter(|(_, a)| a.purposes.contains(&p.id))
                .flat_map(|(_, a)| a.data_categories.iter().copied())
                .collect();
            let mut categories = declared_held(&declared, held);
            categories.sort();
            categories.dedup();
            let (article, reference) = if p.basis == "opt_in" {
                (crate::activities::api::Article::A, "consent")
            } else {
                (crate::activities::api::Article::F, "direct marketing")
            };
            AccessPurpose {
                name: pick(lang, &p.et, &p.en, p.ru.as_deref().unwrap_or(&p.en)).to_owned(),
                id: p.id,
                kind: "consent_purpose".to_owned(),
                legal_basis: Some(AccessLegalBasis {
                    article,
                    reference: reference.to_owned(),
                }),
                categories,
            }
        })
        .collect())
}
