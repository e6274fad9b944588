//! The changes of a privacy request: one extension of its deadline, and closing it with an
//! outcome. Both need `If-Match` and write a `request.update` entry in their transaction.

use super::api::{trimmed, Closing, Extension, PrivacyRequest};
use super::model::{self, RequestRow};
use super::routes::{deadline, entry, keyed_update, now, EXTENDED_MONTHS};
use crate::access_log::{self, Action};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::deadline::tallinn_date;
use crate::domain::ids::PrivacyRequestId;
use crate::domain::privacy_request::{RequestKind, RequestOutcome, RequestStatus};
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self};
use crate::paths;
use crate::precondition;
use crate::responses::{Auth, JsonBody, Precondition, RequestsWrite, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::web::{self};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{SubsecRound, Utc};

/// Loads the request for a change: 404, 412 on a stale `If-Match`, 409 once closed.
fn lock_open(
    conn: &mut diesel::PgConnection,
    id: PrivacyRequestId,
    if_match: precondition::IfMatch,
) -> ApiResult<RequestRow> {
    let row = model::lock(conn, id)?;
    if_match.check(row.version)?;
    if row.status == RequestStatus::Closed.as_str() {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "request-closed",
            "the request is closed",
        ));
    }
    Ok(row)
}

/// What every change of a request does around its own rule: the scope check (logged when
/// refused), the body, `If-Match`, the idempotency key, and one transaction that locks the open
/// request, applies the change and stores it with its `request.update` entry.
pub(super) async fn change<B: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    id: PrivacyRequestId,
    body: impl std::future::Future<Output = Result<B, actix_web::Error>>,
    apply: fn(&mut diesel::PgConnection, RequestRow, B) -> ApiResult<RequestRow>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(caller, Scope::RequestsWrite, Action::RequestUpdate, None)
        .await?;
    let body = body.await?;
    // A malformed Idempotency-Key is bad input: 400 before the precondition is judged.
    let key = idempotency::Key::of(req, &caller.actor)?;
    let if_match = precondition::IfMatch::of(req.headers(), "privacy request")?;
    let actor = caller.clone();
    let answer = state
        .db
        .transaction(move |conn| {
            keyed_update(conn, key.as_ref(), &actor, |conn| {
                let row = lock_open(conn, id, if_match)?;
                let row = apply(conn, row, body)?;
                save(conn, &actor, row)
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Extends the deadline to three months after receipt.
///
/// Allowed once, and only while the original deadline has not passed: neither today's
/// Europe/Tallinn date nor that of `subject_informed_at` may be after the original `due_on`
/// (409 `extension-too-late`). The new `due_on` follows the same rule as the first, with three
/// months. `If-Match` with the request's `ETag` is required. Logged as `request.update`.
#[utoipa::path(post, path = paths::PRIVACY_REQUEST_EXTEND, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The request's id"),
        ("If-Match" = String, Header, description = "The `ETag` last read"),
    ),
    request_body = Extension,
    responses(
        (status = 200, description = "Extended", body = PrivacyRequest, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields (a missing reason, a future or too early `subject_informed_at`), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`extension-too-late`, `already-extended`, or `request-closed`", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Precondition, Unavailable,
    ))]
pub async fn extend_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<PrivacyRequestId>,
    body: BodyAfterAuth<Extension>,
) -> actix_web::Result<HttpResponse> {
    change(&state, &caller, &req, id.into_inner(), body.read(), extend).await
}

fn extend(
    _: &mut diesel::PgConnection,
    mut row: RequestRow,
    body: Extension,
) -> ApiResult<RequestRow> {
    if body.subject_informed_at < row.received_at {
        return Err(ApiError::invalid_field(
            "subject_informed_at",
            "must not be before the request was received",
        ));
    }
    if row.extended {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "already-extended",
            "the deadline was already extended; it can be extended once",
        ));
    }
    let today = tallinn_date(Utc::now());
    if today > row.original_due_on || tallinn_date(body.subject_informed_at) > row.original_due_on {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "extension-too-late",
            format!(
                "the original deadline {} has passed: an extension must be made, and \
                 the person told, by then",
                row.original_due_on
            ),
        ));
    }
    row.due_on = deadline(row.received_on, EXTENDED_MONTHS)?;
    row.extended = true;
    row.extension_reason = trimmed(Some(body.reason));
    row.subject_informed_at = Some(body.subject_informed_at.trunc_subsecs(6));
    Ok(row)
}

/// Closes a request with its outcome.
///
/// `refused` needs a `reason`. An erasure request closes as `fulfilled` only once its subject
/// has been erased (409 `request-not-fulfilled`), an access request only once an access
/// response was frozen for it (409 `response-missing`). An erasure, rectification or restriction
/// request closes as `fulfilled` only once every notice it caused has its recipient's outcome
/// (409 `recipients-unconfirmed`, naming them in `notification_ids`), and any request only
/// without open tasks (409 `tasks-open`, naming them in `task_ids`; judged after the notices),
/// unless the close gives an `override_reason`, which the request then shows. Closing cancels
/// the tasks still open. A closed request cannot be closed again (409 `request-closed`).
/// `If-Match` with the request's `ETag` is required. Logged as `request.update`.
#[utoipa::path(post, path = paths::PRIVACY_REQUEST_CLOSE, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The request's id"),
        ("If-Match" = String, Header, description = "The `ETag` last read"),
    ),
    request_body = Closing,
    responses(
        (status = 200, description = "Closed", body = PrivacyRequest, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields (an unknown outcome, a refusal without a reason), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request-not-fulfilled`, `response-missing` (an `access` request without a frozen response), `recipients-unconfirmed` (with `notification_ids`), `tasks-open` (with `task_ids`) or `request-closed`", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Precondition, Unavailable,
    ))]
pub async fn close_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<PrivacyRequestId>,
    body: BodyAfterAuth<Closing>,
) -> actix_web::Result<HttpResponse> {
    change(&state, &caller, &req, id.into_inner(), body.read(), close).await
}

fn close(
    conn: &mut diesel::PgConnection,
    mut row: RequestRow,
    body: Closing,
) -> ApiResult<RequestRow> {
    let erasure = row.kind == RequestKind::Erasure.as_str();
    if erasure && body.outcome == RequestOutcome::Fulfilled {
        let erased = match row.subject_id {
            Some(subject) => model::subject_erased(conn, subject)?,
            None => false,
        };
        if !erased {
            return Err(ApiError::client(
                StatusCode::CONFLICT,
                "request-not-fulfilled",
                "an erasure request is fulfilled only once its subject is erased: \
                 erase the subject (naming this request), then close it",
            ));
        }
    }
    let access = row.kind == RequestKind::Access.as_str();
    if access
        && body.outcome == RequestOutcome::Fulfilled
        && !crate::rights::access_response::frozen::any_for(conn, row.id)?
    {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "response-missing",
            "an access request is fulfilled only with a frozen access response: freeze one \
             (POST /v1/privacy-requests/{id}/access-response), then close it",
        ));
    }
    let override_reason = trimmed(body.override_reason);
    if body.outcome == RequestOutcome::Fulfilled && override_reason.is_none() {
        super::closing::require_confirmed(conn, &row)?;
    }
    row.status = RequestStatus::Closed.as_str().to_owned();
    row.outcome = Some(body.outcome.as_str().to_owned());
    row.outcome_reason = trimmed(body.reason);
    row.override_reason = override_reason;
    row.closed_at = Some(now());
    Ok(row)
}

/// Stores a change with a new version and its `request.update` entry.
fn save(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    mut row: RequestRow,
) -> ApiResult<RequestRow> {
    row.version += 1;
    row.updated_at = now();
    model::update(conn, &row)?;
    if row.status == RequestStatus::Closed.as_str() {
        super::closing::cancel_open_tasks(conn, row.id, &caller.actor.sub)?;
    }
    access_log::record(
        conn,
        &[entry(caller, Action::RequestUpdate, row.subject_id)],
    )?;
    Ok(row)
}
