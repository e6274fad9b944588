//! One decision about one flag, as both the staff endpoint and the person's own
//! (`PUT /v1/me/consents/{purpose}`) record it: the children's rule first, then the change rides
//! the group commit with its event, its entry and (for a withdrawal) its notices.

use super::api::ConsentChange;
use super::batch::op::ChangeConsent;
use super::batch::{answer_of, ChangeOutcome, PendingChange};
use crate::access_log::{Action, Outcome};
use crate::caller::Caller;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use crate::idempotency;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse};

/// A decision to record about one subject's flag of one purpose.
pub struct Decision {
    pub subject_id: SubjectId,
    pub purpose: String,
    pub change: ConsentChange,
    /// The person's own eID login confirms a grant: no double opt-in is asked of it.
    pub login_confirms: bool,
}

/// Records the decision and answers the flag's new state (the event's id as its `ETag`).
pub async fn record(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    decision: Decision,
) -> actix_web::Result<HttpResponse> {
    let Decision {
        subject_id,
        purpose,
        change,
        login_confirms,
    } = decision;
    let guardian = check_age(state, caller, subject_id, &purpose, &change).await?;
    let pending = PendingChange {
        subject_id,
        purpose_id: purpose,
        status: change.status,
        method: change.method,
        evidence: change.recorded_evidence(),
        purpose_version: change.purpose_version,
        guardian,
        guardian_entry: guardian
            .map(|g| caller.entry(Action::ConsentChange, Some(g), Outcome::Allowed)),
        actor: caller.actor.sub.clone(),
        request_id: caller.request_id.clone(),
        entry: caller.entry(Action::ConsentChange, Some(subject_id), Outcome::Allowed),
        idempotency: idempotency::Key::of(req, &caller.actor)?,
        login_confirms,
    };
    // Committed with the other changes and reads of the moment (see consents::batch).
    match state.log_writer.submit::<ChangeConsent>(pending).await? {
        ChangeOutcome::Recorded { event, flag, token } => {
            Ok(answer_of(&event, &flag, token.as_deref())?.respond())
        }
        ChangeOutcome::Replayed(answer) => Ok(answer.respond()),
        ChangeOutcome::Refused(problem) => Err(problem.into()),
        ChangeOutcome::NoPurpose => Err(ApiError::not_found("purpose").into()),
    }
}

/// The children's rule of a grant: the guardian to record, or the refusal (a refused guardian
/// check is logged as a denied `consent.change` about the guardian).
async fn check_age(
    state: &AppState,
    caller: &Caller,
    subject: SubjectId,
    purpose: &str,
    change: &ConsentChange,
) -> ApiResult<Option<SubjectId>> {
    if change.status != crate::domain::consent::Decision::Granted {
        return Ok(None);
    }
    let claim_guardian = change.guardian.as_ref().map(|g| g.subject_id);
    let (confirmed, version) = (change.age_confirmed == Some(true), change.purpose_version);
    let purpose = purpose.to_owned();
    let today = crate::domain::deadline::tallinn_date(chrono::Utc::now());
    let verdict = state
        .db
        .run(move |conn| {
            let claim = super::children::Claim {
                guardian: claim_guardian,
                age_confirmed: confirmed,
                purpose_version: version,
                purpose: &purpose,
            };
            super::children::judge(conn, subject, &claim, today)
        })
        .await?;
    match (verdict.refusal, verdict.guardian) {
        (Some(refusal), guardian) => {
            if let Some(guardian) = guardian {
                let denied = caller.entry(Action::ConsentChange, Some(guardian), Outcome::Denied);
                state.log_reads(vec![denied]).await?;
            }
            Err(refusal)
        }
        (None, guardian) => Ok(guardian),
    }
}
