//! `POST /v1/privacy-requests/{id}/access-response/{rid}/link`: a new one-time download link for
//! a response already frozen (the first one expired, or the mail never arrived), which kills
//! every link of that response issued before it.

use super::freeze::{self, Frozen};
use super::frozen;
use crate::access_log::{self, Action, Outcome};
use crate::caller::Caller;
use crate::domain::ids::PrivacyRequestId;
use crate::error::ApiError;
use crate::idempotency;
use crate::paths;
use crate::responses::{Auth, RequestsWrite, Unavailable};
use crate::state::AppState;
use crate::subjects::standing::{Lock, Standing};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{SubsecRound, Utc};
use uuid::Uuid;

/// Issues a new one-time download link for a frozen access response.
///
/// Needs `requests:write` and `subjects:read`, as freezing does. The response (`rid`) must have
/// been frozen for the request (`id`), which must still be open. Answers the frozen response as
/// freezing did, with a new `download_url` valid for 168 hours from now; every earlier link of
/// this response stops working at once (a use answers 410 `download-expired`), so a link sent
/// to a wrong or leaked address can be replaced. Only the new token's SHA-256 is kept. Writes
/// `access_response.freeze`. An idempotent replay answers the same with `download_url` null.
#[utoipa::path(post, path = paths::PRIVACY_REQUEST_ACCESS_RESPONSE_LINK, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The request's id"),
        ("rid" = Uuid, Path, description = "The frozen response's id (`access_response.id` of the request)"),
    ),
    responses(
        (status = 201, description = "The frozen response with a new link", body = Frozen),
        (status = 400, description = "An id is not a UUID", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Without `subjects:read` as well", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or no such response frozen for it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request-closed`, or `request-unverified`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject-erased`: the response can no longer be opened", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, Unavailable,
    ))]
pub async fn new_download_link(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    ids: web::Path<(PrivacyRequestId, Uuid)>,
) -> actix_web::Result<HttpResponse> {
    let (id, rid) = ids.into_inner();
    freeze::authorize(&state, &caller).await?;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let mut entry = caller.entry(Action::AccessResponseFreeze, None, Outcome::Allowed);
    let require_verified = state.require_verified_requests;
    let answer = state
        .db
        .transaction(move |conn| {
            let row = frozen::lock_of_request(conn, id, rid)?;
            // Erasure first: after it no link can open the response (its key is gone).
            if !matches!(
                Standing::read(conn, row.subject_id, Lock::None)?,
                Standing::Present(_)
            ) {
                return Err(ApiError::client(
                    StatusCode::GONE,
                    "subject-erased",
                    "the subject was erased",
                ));
            }
            freeze::answerable(conn, id, require_verified)?;
            entry.subject_id = Some(row.subject_id.uuid());
            idempotency::run(conn, key.as_ref(), Some(&entry), |conn| {
                access_log::record(conn, &[entry.clone()])?;
                freeze::linked(conn, &row, Utc::now().trunc_subsecs(6))
            })
        })
        .await?;
    Ok(answer.respond())
}
