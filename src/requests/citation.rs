//! A change that answers a privacy request names it (`privacy_request_id`): the request must
//! exist, be of the change's kind, be about the same subject and be open; under
//! `REQUIRE_VERIFIED_REQUESTS` an erasure or restriction also needs it verified. The request row
//! is share-locked, so that it cannot be closed while it is being answered; it is never locked
//! after a subject row elsewhere.

use crate::db::schema::privacy_requests;
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::domain::privacy_request::{RequestKind, RequestStatus};
use crate::error::{ApiError, ApiResult};
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// What a cited request allows.
pub enum Citation {
    /// The change may answer it.
    Valid,
    /// 400 naming `privacy_request_id` with this message.
    Invalid(String),
    /// A 409: the request is closed (`request-closed`) or unverified (`request-unverified`).
    Conflict(ApiError),
}

/// Judges the request `request` cited by a change of `kind` about `subject`.
pub fn judge(
    conn: &mut PgConnection,
    request: PrivacyRequestId,
    kind: RequestKind,
    subject: SubjectId,
    require_verified: bool,
) -> ApiResult<Citation> {
    type Found = (String, Option<SubjectId>, String, Option<DateTime<Utc>>);
    let found: Option<Found> = privacy_requests::table
        .find(request)
        .select((
            privacy_requests::kind,
            privacy_requests::subject_id,
            privacy_requests::status,
            privacy_requests::verified_at,
        ))
        .for_share()
        .first(conn)
        .optional()?;
    Ok(match found {
        None => Citation::Invalid("no privacy request has this id".to_owned()),
        Some((found, _, _, _)) if found != kind.as_str() => Citation::Invalid(format!(
            "must name {} request, not an `{found}` request",
            article(kind)
        )),
        Some((_, about, _, _)) if about != Some(subject) => {
            Citation::Invalid("names a request about another subject, or about none".to_owned())
        }
        Some((_, _, status, _)) if status != RequestStatus::Open.as_str() => {
            Citation::Conflict(ApiError::client(
                StatusCode::CONFLICT,
                "request-closed",
                "privacy_request_id names a request that is already closed",
            ))
        }
        Some((_, _, _, None)) if require_verified => Citation::Conflict(ApiError::client(
            StatusCode::CONFLICT,
            "request-unverified",
            "the requester's identity is not verified: record the verification of the request \
             first (REQUIRE_VERIFIED_REQUESTS)",
        )),
        Some(_) => Citation::Valid,
    })
}

fn article(kind: RequestKind) -> String {
    match kind {
        RequestKind::Erasure | RequestKind::Access | RequestKind::Objection => {
            format!("an `{}`", kind.as_str())
        }
        _ => format!("a `{}`", kind.as_str()),
    }
}

/// [`judge`] for a change with no other field to report: 400, 409 or nothing.
pub fn require(
    conn: &mut PgConnection,
    request: Option<PrivacyRequestId>,
    kind: RequestKind,
    subject: SubjectId,
    require_verified: bool,
) -> ApiResult<()> {
    let Some(request) = request else {
        return Ok(());
    };
    match judge(conn, request, kind, subject, require_verified)? {
        Citation::Valid => Ok(()),
        Citation::Invalid(message) => Err(ApiError::invalid_field("privacy_request_id", message)),
        Citation::Conflict(error) => Err(error),
    }
}
