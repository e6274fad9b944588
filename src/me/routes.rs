//! Handlers of `/v1/me`: each matches the token to the person, then does what the staff
//! endpoint about the same record does, as the person, with one entry about them.

use super::resolve;
use crate::access_log::{Action, Outcome};
use crate::caller::Caller;
use crate::domain::language::Language;
use crate::error::{ApiError, ApiResult};
use crate::paths;
use crate::responses::{LogUnavailable, Person};
use crate::rights::access_response::api::AccessResponse;
use crate::rights::access_response::gather;
use crate::rights::access_response::routes::{answer as answered_as, parse_params, Format};
use crate::state::AppState;
use crate::subjects::api::Subject;
use actix_web::{web, HttpResponse};
use std::collections::HashMap;

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

/// Reads the person's own access response (Art. 15), as staff read it for them.
///
/// The same answer as `GET /v1/subjects/{id}/access-response`, except that wherever a record
/// names a staff member or a partner integration (`actor`, `created_by`, ...) it says `staff`
/// or `recipient` instead (CJEU C-579/21): `lang` (`et`, `en` (the default) or `ru`) chooses
/// the texts, `format=html` answers one printable page. Logged as `access_response.read` about
/// the person, refusals too.
#[utoipa::path(get, path = paths::ME_ACCESS_RESPONSE, tag = "me", security(("bearer" = [])),
    params(
        ("lang" = Option<Language>, Query, description = "`et`, `en` (the default) or `ru`"),
        ("format" = Option<Format>, Query, description = "`json` (the default) or `html`"),
    ),
    responses(
        (status = 200, description = "The access response", body = AccessResponse,
            content((AccessResponse = "application/json"), (String = "text/html"))),
        (status = 400, description = "A bad `lang` or `format`, or a parameter the endpoint does not take, named", body = crate::error::Problem, content_type = "application/problem+json"),
        Person, LogUnavailable,
    ))]
pub async fn my_access_response(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    let me = resolve(&state, caller, Action::AccessResponseRead).await?;
    let answer: actix_web::Result<HttpResponse> = async {
        let (lang, format) = parse_params(query.into_inner())?;
        let id = me.id;
        // The actors after the response: a superset of those its records name.
        let (response, hidden) = state
            .db
            .run(move |conn| {
                let response = gather::build(conn, id, lang)?;
                Ok((response, super::redact::hidden_actors(conn, id)?))
            })
            .await?;
        let logged = me
            .caller
            .entry(Action::AccessResponseRead, Some(id), Outcome::Allowed);
        state.log_reads(vec![logged]).await?;
        if format == Format::Html {
            // The page shows the record and the flags, never who acted.
            return Ok(answered_as(&response, format));
        }
        let mut json = serde_json::to_value(&response).map_err(ApiError::internal)?;
        super::redact::redact(&mut json["personal_data"], &hidden);
        Ok(HttpResponse::Ok().json(json))
    }
    .await;
    me.settle(&state, Action::AccessResponseRead, answer).await
}
