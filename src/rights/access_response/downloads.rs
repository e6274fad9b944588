//! `/v1/downloads/{token}`, called without a bearer token by the person the link was sent to.
//! The `GET` answers a small page that does not use the link, so that mail and chat link
//! scanners, which only fetch, cannot spend it; its button `POST`s, which uses the link once.

use super::frozen;
use super::markup::escape;
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Actor;
use crate::caller::RequestId;
use crate::domain::language::Language;
use crate::error::{ApiError, ApiResult};
use crate::pagination::Params;
use crate::paths;
use crate::responses::Unavailable;
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{SubsecRound, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The actor of every download.
pub const ACTOR: &str = "link:download";

/// Whether `text` has a token's form: 43 base64url characters.
fn well_formed(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn token_of(req: &HttpRequest) -> ApiResult<String> {
    let token = req.match_info().get("token").unwrap_or_default();
    if well_formed(token) {
        Ok(token.to_owned())
    } else {
        Err(ApiError::not_found("download"))
    }
}

const PAGE_STYLE: &str =
    "body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}\
button{font:inherit;padding:.5rem 1rem;margin:.25rem}";

/// The page's texts: its language, title, heading and what to do.
const TEXTS: [(Language, &str, &str, &str); 3] = [
    (
        Language::Et,
        "Vastus",
        "Teie andmepäringu vastus",
        "Lingi saab kasutada ühe korra. Vajutage nuppu, et vastus alla laadida.",
    ),
    (
        Language::En,
        "Answer",
        "The answer to your data request",
        "The link can be used once. Press a button to download the answer.",
    ),
    (
        Language::Ru,
        "Ответ",
        "Ответ на ваш запрос",
        "Ссылкой можно воспользоваться один раз. Нажмите кнопку, чтобы скачать ответ.",
    ),
];

/// The page a `GET` answers: the same for every well-formed token (it tells nothing about it),
/// in the language asked for or in all three, with buttons that post to the same address.
fn page(lang: Option<Language>) -> String {
    let shown: Vec<_> = TEXTS
        .iter()
        .filter(|(l, ..)| lang.is_none_or(|wanted| wanted == *l))
        .collect();
    let title = shown.iter().map(|t| t.1).collect::<Vec<_>>().join(" / ");
    let heading = shown.iter().map(|t| t.2).collect::<Vec<_>>().join(" / ");
    let paragraphs: String = shown
        .iter()
        .map(|(l, _, _, text)| format!("<p lang=\"{}\">{}</p>", l.as_str(), escape(text)))
        .collect();
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{PAGE_STYLE}</style></head><body><main>\
         <h1>{}</h1>{paragraphs}\
         <form method=\"post\"><button type=\"submit\">{}</button></form>\
         <form method=\"post\" action=\"?format=html\"><button type=\"submit\">{}</button></form>\
         </main></body></html>",
        lang.map_or("et", Language::as_str),
        escape(&title),
        escape(&heading),
        escape("JSON"),
        escape("HTML"),
    )
}

fn page_csp() -> String {
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(PAGE_STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; base-uri 'none'; \
         frame-ancestors 'none'"
    )
}

/// The page of a download link; it does not use the link.
///
/// No bearer token. The same page for every well-formed token (43 base64url characters), with
/// no personal data and no entry written, in `lang` (`et`, `en` or `ru`) or, without it, in all
/// three; its buttons `POST` to the same address, which uses the link. A malformed token is 404.
#[utoipa::path(get, path = paths::DOWNLOAD, tag = "privacy-requests",
    params(
        ("token" = String, Path, description = "The link's token: 43 base64url characters"),
        ("lang" = Option<Language>, Query, description = "`et`, `en` or `ru`: the page in that language only (default: all three)"),
    ),
    responses(
        (status = 200, description = "A page with the download buttons", body = String, content_type = "text/html"),
        (status = 400, description = "A bad `lang`, or another query parameter, named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a token", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn download_page(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    token_of(&req)?;
    let mut params = Params::new(query.into_inner());
    let lang = params.with("lang", Language::parse);
    params.finish()?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, page_csp()))
        .body(page(lang)))
}

fn gone(code: &'static str, detail: &str) -> ApiError {
    ApiError::client(StatusCode::GONE, code, detail.to_owned())
}

/// Uses a download link once: the frozen response.
///
/// No bearer token. `format=json` (the default) answers the frozen RFC 8785 bytes as an
/// attachment; `html` the page made from the same response. An erased subject is 410
/// `subject-erased` (checked first), a used link 410 `download-used`, one past `expires_at`
/// (or replaced by a new link) 410 `download-expired`. An unknown or malformed token is 404 and
/// writes nothing; every other use writes `download.read` (actor `link:download`).
#[utoipa::path(post, path = paths::DOWNLOAD, tag = "privacy-requests",
    params(
        ("token" = String, Path, description = "The link's token: 43 base64url characters"),
        ("format" = Option<super::routes::Format>, Query, description = "`json` (the default) or `html`"),
        ("lang" = Option<Language>, Query, description = "The page's language, which its form sends along; the answer is the frozen response as frozen"),
    ),
    responses(
        (status = 200, description = "The frozen response", body = String, content_type = "application/json",
            headers(("Content-Disposition" = String, description = "attachment"))),
        (status = 400, description = "A bad `format`, named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such link", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject-erased`, `download-used` or `download-expired`", body = crate::error::Problem, content_type = "application/problem+json"),
        Unavailable,
    ))]
pub async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let token = token_of(&req)?;
    let mut params = Params::new(query.into_inner());
    let html = params.with("format", |f| match f {
        "json" => Ok(false),
        "html" => Ok(true),
        _ => Err("must be `json` or `html`".to_owned()),
    });
    // The page's form posts to the page's own address, `lang` included.
    params.with("lang", Language::parse);
    params.finish()?;
    let html = html.unwrap_or(false);
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let request_id = RequestId::of(&req);
    let actor = Actor::new(ACTOR, &[], None);
    // A refusal is logged in a transaction of its own, after the use was refused.
    let outcome = state
        .db
        .transaction(move |conn| {
            let Some(link) = frozen::lock_link(conn, &hash)? else {
                return Err(ApiError::not_found("download"));
            };
            let entry = |outcome| {
                NewEntry::for_actor(
                    &actor,
                    &request_id,
                    None,
                    Action::DownloadRead,
                    Some(link.subject_id.uuid()),
                    outcome,
                )
            };
            let now = Utc::now().trunc_subsecs(6);
            let refusal = match crate::subjects::standing::Standing::read(
                conn,
                link.subject_id,
                crate::subjects::standing::Lock::None,
            )? {
                crate::subjects::standing::Standing::Present(_) => None,
                _ => Some(gone("subject-erased", "the subject was erased")),
            }
            .or_else(|| {
                link.used_at
                    .map(|_| gone("download-used", "this link was used already"))
            })
            .or_else(|| {
                (link.revoked_at.is_some() || now >= link.expires_at)
                    .then(|| gone("download-expired", "this link has expired"))
            });
            if let Some(error) = refusal {
                access_log::record(conn, &[entry(Outcome::Denied)])?;
                return Ok(Err(error));
            }
            let response = frozen::find(conn, link.response_id)?;
            let bytes = frozen::open(conn, &response, html)?;
            frozen::spend(conn, &hash, now)?;
            access_log::record(conn, &[entry(Outcome::Allowed)])?;
            Ok(Ok((bytes, response)))
        })
        .await?;
    let (bytes, response) = outcome?;
    let mut answer = HttpResponse::Ok();
    answer.insert_header((header::CACHE_CONTROL, "no-store"));
    answer.insert_header((header::REFERRER_POLICY, "no-referrer"));
    if html {
        answer
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                super::html::content_security_policy(),
            ));
    } else {
        answer.content_type("application/json").insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"access-response-{}.json\"",
                response.id
            ),
        ));
    }
    Ok(answer.body(bytes))
}
