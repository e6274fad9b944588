//! A consent change waiting for its batch, and what became of it.

use crate::access_log::NewEntry;
use crate::consents::api::Consent;
use crate::consents::model::EventRow;
use crate::consents::state::FlagRow;
use crate::domain::consent::{Decision, Method};
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{Answer, Key};
use actix_web::http::StatusCode;

/// A decision waiting for its batch.
#[derive(Debug, Clone)]
pub struct PendingChange {
    pub subject_id: SubjectId,
    pub purpose_id: String,
    pub status: Decision,
    pub method: Method,
    pub evidence: Option<String>,
    /// The purpose version the caller named; `None`: the one in force.
    pub purpose_version: Option<i32>,
    /// The guardian who consented for a child (checked before the change was submitted).
    pub guardian: Option<SubjectId>,
    pub actor: String,
    pub request_id: String,
    /// The `consent.change` entry, appended when the change is recorded.
    pub entry: NewEntry,
    /// The `consent.change` entry about the guardian, appended with it.
    pub guardian_entry: Option<NewEntry>,
    /// The request's `Idempotency-Key`: its answer is stored in the batch's transaction.
    pub idempotency: Option<Key>,
    /// The person's own eID login confirms a grant: a double opt-in purpose asks no
    /// confirmation of it.
    pub login_confirms: bool,
}

/// What became of one change.
#[derive(Debug)]
pub enum ChangeOutcome {
    Recorded {
        event: EventRow,
        /// The flag as the batch left it.
        flag: Box<FlagRow>,
        /// A double opt-in's one-time token, answered once.
        token: Option<String>,
    },
    /// A retry of a request already answered: that answer, nothing recorded again.
    Replayed(Answer),
    /// A key in use or reused with another body, or a subject the standing rule refuses (404,
    /// 410).
    Refused(ApiError),
    NoPurpose,
}

/// The answer to a recorded change, with the event's id as its `ETag`; `token` only in the
/// first answer (a stored answer, replayed, carries none).
pub fn answer_of(event: &EventRow, flag: &FlagRow, token: Option<&str>) -> ApiResult<Answer> {
    let etag = format!("\"{}\"", event.id);
    let answer = Consent {
        confirmation_token: token.map(str::to_owned),
        ..Consent::try_from(flag.clone())?
    };
    Ok(Answer::json(StatusCode::OK, &answer)?.etag(etag))
}

/// 409 `purpose-version-stale`.
pub fn stale_version(current: i32) -> ApiError {
    ApiError::client(
        StatusCode::CONFLICT,
        "purpose-version-stale",
        format!("the purpose's current version is {current}; show the person that text"),
    )
}
