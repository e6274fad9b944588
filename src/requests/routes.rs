//! Handlers that record and read one privacy request, and what the other handlers of the
//! resource share. Every handler logs an entry about the request's subject in the transaction of
//! the change, or before a read answers.

use super::api::{trimmed, NewPrivacyRequest, PrivacyRequest};
use super::model::{self, RequestRow};
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::deadline::{due_on, tallinn_date};
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::domain::privacy_request::RequestStatus;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, BadId, JsonBody, LogUnavailable, RequestsRead, RequestsWrite, Unavailable,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::web::{self};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

/// Months to answer, and to answer once extended (GDPR Art. 12(3)).
pub const MONTHS: u32 = 1;
pub(super) const EXTENDED_MONTHS: u32 = 3;

/// One request as a storable answer, with its `ETag` (and `Location` when just created).
pub(super) fn answer(status: StatusCode, row: RequestRow) -> ApiResult<Answer> {
    let (id, etag) = (row.id, precondition::etag(row.version));
    let answer = Answer::json(status, &PrivacyRequest::from_row(row)?)?.etag(etag);
    if status != StatusCode::CREATED {
        return Ok(answer);
    }
    Ok(answer.location(format!("/v1/privacy-requests/{id}")))
}

/// Runs an update of a request under its idempotency key: a replay repeats the stored answer
/// (with a `request.update` entry about the same subject); a new one is stored with its answer.
pub(super) fn keyed_update(
    conn: &mut diesel::PgConnection,
    key: Option<&idempotency::Key>,
    caller: &Caller,
    work: impl FnOnce(&mut diesel::PgConnection) -> ApiResult<RequestRow>,
) -> ApiResult<Answer> {
    if let Some(key) = key {
        let template = entry(caller, Action::RequestUpdate, None);
        if let Some(answer) = idempotency::claim(conn, key, Some(&template))? {
            return Ok(answer);
        }
    }
    let row = work(conn)?;
    let logged = entry(caller, Action::RequestUpdate, row.subject_id);
    let answer = answer(StatusCode::OK, row)?;
    if let Some(key) = key {
        idempotency::store(conn, key, Some(&logged), &answer)?;
    }
    Ok(answer)
}

pub(super) fn entry(caller: &Caller, action: Action, subject: Option<SubjectId>) -> NewEntry {
    caller.entry(action, subject, Outcome::Allowed)
}

/// Now, as PostgreSQL stores it (microseconds), so that an answer equals a later read.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn deadline(received_on: NaiveDate, months: u32) -> ApiResult<NaiveDate> {
    due_on(received_on, months)
        .ok_or_else(|| ApiError::invalid_field("received_at", "is out of the calendar's range"))
}

/// Records a privacy request and computes its deadline.
///
/// `received_on` is the Europe/Tallinn date of `received_at`; `due_on` is one calendar month
/// later (the same day number, or the month's last day when it has none), moved to the next
/// working day when it falls on a Saturday, a Sunday or an Estonian public holiday. Logged as
/// `request.create` about the request's subject.
#[utoipa::path(post, path = paths::PRIVACY_REQUESTS, tag = "privacy-requests", security(("bearer" = [])),
    request_body = NewPrivacyRequest,
    responses(
        (status = 201, description = "Recorded, with its deadline", body = PrivacyRequest, headers(
            ("Location" = String, description = "The request's path"),
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 400, description = "Invalid fields (an unknown kind or channel, a future `received_at`), each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No subject with this `subject_id`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The `subject_id` names an erased subject (`subject-erased`)", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<NewPrivacyRequest>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsWrite, Action::RequestCreate, None)
        .await?;
    let body = body.read().await?;
    let received_at = body.received_at.trunc_subsecs(6);
    let received_on = tallinn_date(received_at);
    let due = deadline(received_on, MONTHS)?;
    let now = now();
    let row = RequestRow {
        id: PrivacyRequestId::new(),
        version: 1,
        kind: body.kind.as_str().to_owned(),
        subject_id: body.subject_id,
        channel: body.channel.as_str().to_owned(),
        received_at,
        received_on,
        reference: trimmed(body.reference),
        status: RequestStatus::Open.as_str().to_owned(),
        original_due_on: due,
        due_on: due,
        extended: false,
        extension_reason: None,
        subject_informed_at: None,
        outcome: None,
        outcome_reason: None,
        closed_at: None,
        created_by: caller.actor.sub.clone(),
        created_at: now,
        updated_at: now,
        verified_at: None,
        verification_method: None,
        verified_by: None,
        duplicate_of: None,
        override_reason: None,
        details_enc: None,
        login_verification: None,
    };
    let logged = entry(&caller, Action::RequestCreate, row.subject_id);
    let key = idempotency::Key::of(&req, &caller.actor)?;
    Ok(
        idempotency::commit(&state.db, key, Some(logged.clone()), move |conn| {
            let mut row = row;
            if let Some(subject) = row.subject_id {
                crate::subjects::path::require(conn, subject)?;
                // A repeat is linked to the open request it repeats, never refused; it
                // keeps its own verification.
                row.duplicate_of = model::open_original(conn, &row.kind, subject)?;
            }
            model::insert(conn, &row)?;
            access_log::record(conn, &[logged])?;
            answer(StatusCode::CREATED, row)
        })
        .await?,
    )
}

/// Reads one privacy request.
///
/// Answers only once its `request.read` entry about the request's subject is committed.
#[utoipa::path(get, path = paths::PRIVACY_REQUEST, tag = "privacy-requests", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = PrivacyRequest, headers(
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsRead>, BadId, LogUnavailable,
    ))]
pub async fn get_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PrivacyRequestId>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsRead, Action::RequestRead, None)
        .await?;
    let id = id.into_inner();
    let request = state
        .db
        .run(move |conn| {
            let row = model::find(conn, id)?;
            PrivacyRequest::with_details(conn, row)
        })
        .await?;
    state
        .log_reads(vec![entry(
            &caller,
            Action::RequestRead,
            request.subject_id,
        )])
        .await?;
    let etag = precondition::etag(request.version);
    Ok(Answer::json(StatusCode::OK, &request)?.etag(etag).respond())
}
