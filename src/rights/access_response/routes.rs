//! `GET /v1/subjects/{id}/access-response`: parse, authorize, build in one snapshot, log, answer.

use super::api::AccessResponse;
use super::{gather, html};
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::language::Language;
use crate::error::ApiResult;
use crate::pagination::Params;
use crate::paths;
use crate::responses::{Auth, BadId, LogUnavailable, NoSubject, SubjectsRead};
use crate::state::AppState;
use crate::subjects::path::SubjectPath;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use std::collections::HashMap;

/// `json` or `html`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = AccessResponseFormat)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Html,
}

/// Reads `lang` and `format` (every bad one named; nothing else is accepted).
pub fn parse_params(query: HashMap<String, String>) -> ApiResult<(Language, Format)> {
    let mut params = Params::new(query);
    let lang = params.with("lang", Language::parse);
    let format = params.with("format", |f| match f {
        "json" => Ok(Format::Json),
        "html" => Ok(Format::Html),
        _ => Err("must be `json` or `html`".to_owned()),
    });
    params.finish()?;
    Ok((lang.unwrap_or(Language::En), format.unwrap_or(Format::Json)))
}

/// The answer in the format asked for: JSON, or the printable page under a CSP that lets
/// nothing load or run.
pub fn answer(response: &AccessResponse, format: Format) -> HttpResponse {
    match format {
        Format::Json => HttpResponse::Ok().json(response),
        Format::Html => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                html::content_security_policy(),
            ))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .body(html::render(response)),
    }
}

/// The right of access (Art. 15): everything the person is owed, specific to them.
///
/// The export as `personal_data`, with the purposes (active processing activities covering the
/// person's kind, and the consent purposes they are eligible for), the recipients by name from
/// the disclosure ledger, their own keep date, the source, transfers, their rights, where to
/// complain (`AUTHORITY_*`) and the access log summed per day without staff identities. Every
/// key is present, empty or null where there is nothing. `lang` (`et`, `en` (default), `ru`)
/// chooses the texts; `format=html` answers one printable, self-contained page. Writes an
/// `access_response.read` entry before answering.
#[utoipa::path(get, path = paths::SUBJECT_ACCESS_RESPONSE, tag = "subjects", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("lang" = Option<Language>, Query, description = "`et`, `en` (the default) or `ru`"),
        ("format" = Option<Format>, Query, description = "`json` (the default) or `html`"),
    ),
    responses(
        (status = 200, description = "The access response", body = AccessResponse,
            content((AccessResponse = "application/json"), (String = "text/html"))),
        (status = 400, description = "A bad `lang` or `format`, named", body = crate::error::Problem, content_type = "application/problem+json"),
        BadId, Auth<SubjectsRead>, NoSubject, LogUnavailable,
    ))]
pub async fn access_response(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let id = path.id();
    state
        .authorize(
            &caller,
            Scope::SubjectsRead,
            Action::AccessResponseRead,
            Some(id),
        )
        .await?;
    let (lang, format) = parse_params(query.into_inner())?;
    let response = state
        .db
        .run(move |conn| gather::build(conn, id, lang))
        .await?;
    state
        .log_reads(vec![caller.entry(
            Action::AccessResponseRead,
            Some(id),
            Outcome::Allowed,
        )])
        .await?;
    Ok(answer(&response, format))
}
