//! Handlers of `/v1/me`: each matches the token to the person, then does what the staff
//! endpoint about the same record does, as the person, with one entry about them.

use super::resolve;
use crate::access_log::Action;
use crate::caller::Caller;
use crate::error::ApiResult;
use crate::paths;
use crate::responses::{LogUnavailable, Person};
use crate::state::AppState;
use crate::subjects::api::Subject;
use actix_web::{web, HttpResponse};

/// Reads the caller's own record.
///
/// Called with the person's own token (from the subject identity provider, or a staff-key
/// token with scope `self`). Answers the record as `GET /v1/subjects/{id}` shows it, once its
/// `subject.read` entry (actor `subject:<id>`) is committed.
#[utoipa::path(get, path = paths::ME, tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The person's record", body = Subject, headers(
            ("ETag" = String, description = "The version, quoted"),
        )),
        Person, LogUnavailable,
    ))]
pub async fn get_me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let me = resolve(&state, caller, Action::SubjectRead).await?;
    crate::subjects::routes::read_one(&state, &me.caller, me.id).await
}
