//! Rectification: a JSON merge patch applied to the record as the client sees it, the result
//! validated like a new subject, and every changed field recorded with its old and new value;
//! recipients that received a changed category are sent a notice in the same transaction.

use super::api::{Subject, SubjectFields};
use super::model::{self, NewRectification, SubjectData, SubjectRow};
use super::patch::merge_patch;
use crate::access_log::{self, NewEntry};
use crate::domain::ids::{PrivacyRequestId, RectificationId, SubjectId};
use crate::domain::privacy_request::RequestKind;
use crate::domain::text::LongText;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::parse_object;
use crate::requests::citation::{self, Citation};
use chrono::{SubsecRound, Utc};
use serde_json::{Map, Value};

/// One rectification request, checked for form but not yet against the record.
pub struct Request {
    /// The subject to rectify.
    pub subject_id: SubjectId,
    /// The version named by `If-Match`.
    pub if_match: crate::precondition::IfMatch,
    /// Why, as given (checked with the patched record).
    pub reason: String,
    /// The merge patch of the subject's fields.
    pub patch: Map<String, Value>,
    /// The rectification request this answers; its notices carry it.
    pub privacy_request_id: Option<PrivacyRequestId>,
    /// The `subject.rectify` entry, committed with the change.
    pub entry: NewEntry,
}

/// Applies the request in the caller's transaction: 404, 412 or 400 (every bad field) change
/// nothing; otherwise the record, its rectifications and the access-log entry are written
/// together. A patch that changes nothing leaves the version as it was.
pub fn apply(conn: &mut diesel::PgConnection, request: Request) -> ApiResult<SubjectRow> {
    // Before the subject's row: a request row is never locked after a subject row.
    let citation = match request.privacy_request_id {
        Some(cited) => Some(citation::judge(
            conn,
            cited,
            RequestKind::Rectification,
            request.subject_id,
            false,
        )?),
        None => None,
    };
    let (current, key) = model::find_for_rectification(conn, request.subject_id)?;
    // Only an erased subject has no key, and that is a 410 above.
    let key = key.ok_or_else(|| ApiError::internal("a subject without a data key"))?;
    request.if_match.check(current.version)?;
    let (reason, data) = match (merged(&current, &request.reason, request.patch), citation) {
        (Ok(merged), None | Some(Citation::Valid)) => merged,
        (Ok(_), Some(Citation::Conflict(conflict))) => return Err(conflict),
        (merged, Some(Citation::Invalid(message))) => {
            let mut errors = match merged {
                Err(ApiError::Validation { errors, .. }) => errors,
                Err(other) => return Err(other),
                Ok(_) => Vec::new(),
            };
            errors.push(FieldError::new("privacy_request_id", message));
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(ApiError::invalid(errors));
        }
        (Err(error), _) => return Err(error),
    };
    let now = Utc::now().trunc_subsecs(6);
    let rectifications: Vec<NewRectification> = current
        .data
        .fields()
        .into_iter()
        .zip(data.fields())
        .filter(|((_, old), (_, new))| old != new)
        .map(|((field, old), (_, new))| NewRectification {
            id: RectificationId::new(),
            subject_id: current.id,
            field: field.to_owned(),
            old_value: (!old.is_null()).then_some(old),
            new_value: (!new.is_null()).then_some(new),
            reason: reason.clone(),
            actor: request.entry.actor.clone(),
            at: now,
            request_id: request.entry.request_id.clone(),
        })
        .collect();
    let row = if rectifications.is_empty() {
        current
    } else {
        let row = model::update(conn, &current, &key, &data, now)?
            .ok_or_else(|| request.if_match.stale())?;
        model::insert_rectifications(conn, &key, &rectifications)?;
        let changed = rectifications
            .iter()
            .filter_map(|r| crate::notices::category_of(&r.field))
            .collect();
        if let Some(event) = crate::notices::Event::rectified(row.id, changed) {
            crate::notices::queue(conn, &event.for_request(request.privacy_request_id))?;
        }
        row
    };
    access_log::record(conn, &[request.entry])?;
    Ok(row)
}

/// The trimmed reason and the patched record, or one 400 naming every bad field of both.
fn merged(
    current: &SubjectRow,
    reason: &str,
    patch: Map<String, Value>,
) -> ApiResult<(String, SubjectData)> {
    let mut errors = Vec::new();
    let reason = LongText::parse(reason)
        .map_err(|message| errors.push(FieldError::new("reason", message)))
        .ok();
    let mut document = serde_json::to_value(Subject::from(current)).map_err(ApiError::internal)?;
    if let Value::Object(fields) = &mut document {
        // The patch applies to the fields staff set, not to what the service keeps itself.
        for kept in [
            "id",
            "version",
            "created_at",
            "updated_at",
            "last_activity_at",
            "restriction",
            "art14",
        ] {
            fields.remove(kept);
        }
    }
    merge_patch(&mut document, Value::Object(patch));
    let body = serde_json::to_vec(&document).map_err(ApiError::internal)?;
    // The same parsing as a create body, so that a rectified record obeys every rule a new one does.
    let data = match parse_object::<SubjectFields>(&body) {
        Ok(fields) => fields.to_data().map_err(|bad| errors.extend(bad)).ok(),
        Err(ApiError::Validation { errors: bad, .. }) => {
            errors.extend(bad);
            None
        }
        Err(other) => return Err(other),
    };
    match (reason, data) {
        (Some(reason), Some(data)) if errors.is_empty() => Ok((reason.into_inner(), data)),
        _ => {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(ApiError::invalid(errors))
        }
    }
}
