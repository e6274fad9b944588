//! Partner endpoints: a recipient's own integration reads the subjects it is authorized to
//! receive, and nothing else. Every answer that releases data records the disclosure first.

use super::api::PartnerSubject;
use super::model;
use super::partner_read::{PartnerJob, PartnerRead, Verdict};
use super::{etag_of, not_authorized};
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::ids::{RecipientId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::responses::{BadId, Bearer, LogUnavailable, Unavailable};
use crate::state::AppState;
use crate::subjects::path::SubjectPath;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use chrono::Utc;
use std::collections::HashMap;

/// The one refusal a partner gets for a subject it may not receive, whether or not the subject
/// exists, so that the endpoint reveals nothing about who is on file.
fn refused() -> ApiError {
    not_authorized("no active disclosure authorization covers this subject for your organisation")
}

/// The recipient the partner token speaks for, or a logged 403 (the partner endpoints of notices
/// use it too).
pub(crate) async fn recipient_of(
    state: &AppState,
    caller: &Caller,
    action: Action,
    subject: Option<SubjectId>,
) -> ApiResult<RecipientId> {
    state
        .authorize(caller, Scope::Partner, action, subject)
        .await?;
    match caller.actor.recipient_id {
        Some(recipient) => Ok(RecipientId(recipient)),
        None => {
            let error = ApiError::client(
                StatusCode::FORBIDDEN,
                "recipient-required",
                "a partner token must carry a `recipient_id` claim",
            );
            state.deny(caller, action, subject, error).await
        }
    }
}

/// Reads what the partner may receive about one subject.
///
/// Only `id` and the fields of the data categories that the caller's active authorizations for
/// this subject cover: `identity` → `given_name`, `family_name`; `contact` → `email`, `phone`;
/// `address` → `address`; `personal_code` → `personal_code`. The disclosure is recorded before
/// the answer. A subject that may not be received and a subject that does not exist get the
/// same 403 `disclosure-not-authorized`. Under `ART14_ENFORCEMENT=block`, a subject the partner
/// may receive whose person is owed Art. 14 information not yet given is 409
/// `subject-not-informed` (logged as refused; nothing is recorded as disclosed).
#[utoipa::path(
    get, path = paths::PARTNER_SUBJECT, tag = "partner", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "The authorized fields", body = PartnerSubject,
         headers(("ETag" = String, description = "A tag of this representation"))),
        (status = 403, description = "Not a partner token, no `recipient_id`, or no active authorization (`disclosure-not-authorized`, also for a subject that does not exist)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ART14_ENFORCEMENT=block` and the person has not been told what Art. 14 requires (`subject-not-informed`)", body = crate::error::Problem, content_type = "application/problem+json"),
        BadId, Bearer, Unavailable,
    )
)]
pub async fn read_subject(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
) -> ApiResult<HttpResponse> {
    let subject = path.id();
    let recipient = recipient_of(&state, &caller, Action::PartnerRead, Some(subject)).await?;
    let job = PartnerJob {
        subject,
        recipient,
        entry: caller.entry(Action::PartnerRead, Some(subject), Outcome::Allowed),
        block_uninformed: state.registers.art14_block,
    };
    // Checked, recorded and logged with the other reads of the moment (see partner_read).
    let (sealed, covered) = match state.log_writer.submit::<PartnerRead>(job).await? {
        Verdict::Released(sealed, covered) => (sealed, covered),
        Verdict::Refused => return Err(refused()),
        Verdict::NotInformed => return Err(crate::art14::model::not_informed()),
    };
    let body = PartnerSubject::release(subject, super::model::fields_of(*sealed)?, &covered);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag_of(&body)))
        .json(body))
}

/// Lists the subjects the partner may receive now.
///
/// The ids of the subjects that the caller's active authorizations cover, in id order. A
/// suspended recipient gets 403 `disclosure-not-authorized`.
#[utoipa::path(
    get, path = paths::PARTNER_SUBJECTS, tag = "partner", security(("bearer" = [])),
    operation_id = "list_partner_subjects",
    params(
        ("limit" = Option<i64>, Query, description = "Page size, 1..1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of subject ids", body = Page<Uuid>),
        (status = 400, description = "A bad query parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner token, no `recipient_id`, or the recipient is suspended (`disclosure-not-authorized`)", body = crate::error::Problem, content_type = "application/problem+json"),
        Bearer, LogUnavailable,
    )
)]
pub async fn list_subjects(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let recipient = recipient_of(&state, &caller, Action::PartnerList, None).await?;
    let mut params = Params::new(query.into_inner());
    let limit = params.limit();
    let cursor = params.cursor::<SubjectId>();
    params.finish()?;
    let ids = state
        .db
        .transaction(move |conn| {
            model::receivable_subjects(conn, recipient, Utc::now(), cursor, limit)
        })
        .await?;
    let Some(ids) = ids else {
        let error = not_authorized("your organisation may not receive data now");
        return state.deny(&caller, Action::PartnerList, None, error).await;
    };
    let page = Page::from_rows(ids, limit, SubjectId::to_string);
    let entries = page
        .items
        .iter()
        .map(|id| caller.entry(Action::PartnerList, Some(*id), Outcome::Allowed))
        .collect();
    state.log_reads(entries).await?;
    Ok(HttpResponse::Ok().json(page))
}
