//! `/privacy/`: the privacy centre's page, the confirmation page and their files. No bearer
//! token reaches these routes (the pages read it from the URL fragment, which browsers never
//! send), so they answer the same bytes to everyone and write no entry.

use super::assets::{Asset, CENTRE_HTML, CONFIRM_HTML};
use super::language::from_accept_language;
use crate::domain::language::Language;
use crate::error::{ApiError, ApiResult};
use crate::pagination::Params;
use crate::paths;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::HashMap;

/// Only this origin's scripts, styles, images and calls; never framed; no `<base>`.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers every answer here carries: the token the page holds must not leak through a
/// referrer, a cache or a frame.
fn answer(content_type: &str) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    res.content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    res
}

/// `?lang=` when given (another value is 400), else the browser's choice, else Estonian.
fn language(req: &HttpRequest, query: HashMap<String, String>) -> ApiResult<Language> {
    let mut params = Params::new(query);
    let asked = params.with("lang", |v| {
        Language::parse(v).map_err(|_| "must be `et`, `en` or `ru`".to_owned())
    });
    params.finish()?;
    Ok(asked
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(from_accept_language)
        })
        .unwrap_or(Language::Et))
}

fn page(req: &HttpRequest, query: HashMap<String, String>, html: &str) -> ApiResult<HttpResponse> {
    let lang = language(req, query)?;
    Ok(answer("text/html; charset=utf-8")
        .insert_header((header::VARY, "Accept-Language"))
        .body(html.replace("__LANG__", lang.as_str())))
}

/// The privacy centre: a person's data, consents, access log and requests.
///
/// No bearer token: open it as `/privacy/#access_token=<the person's token>`. The page removes
/// the fragment from the address bar before its first call, keeps the token in memory only and
/// calls the `/v1/me` endpoints with it; without a token it says so and calls nothing. It opens
/// in `lang`, else the best of `Accept-Language`, else Estonian, and can be switched. CSP
/// `default-src 'self'; frame-ancestors 'none'; base-uri 'none'`, `Referrer-Policy: no-referrer`,
/// `Cache-Control: no-store`.
#[utoipa::path(get, path = paths::PRIVACY_CENTRE, tag = "privacy-centre",
    params(("lang" = Option<Language>, Query, description = "`et`, `en` or `ru` (default: the browser's, else `et`)")),
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html"),
        (status = 400, description = "A bad `lang` or an unknown query parameter, named", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn centre_page(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    page(&req, query.into_inner(), CENTRE_HTML)
}

/// The double opt-in confirmation page.
///
/// No bearer token: open it as `/privacy/confirm#token=<confirmation token>`. It removes the
/// fragment from the address bar, shows the purpose's text in the person's language (from
/// `POST /v1/consents/confirmations/purpose`, which does not use the token) and confirms
/// (`POST /v1/consents/confirmations`) only when the person presses its button. Language and
/// headers as the privacy centre's.
#[utoipa::path(get, path = paths::PRIVACY_CONFIRM, tag = "privacy-centre",
    params(("lang" = Option<Language>, Query, description = "`et`, `en` or `ru` (default: the browser's, else `et`)")),
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html"),
        (status = 400, description = "A bad `lang` or an unknown query parameter, named", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_page(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    page(&req, query.into_inner(), CONFIRM_HTML)
}

/// A file of the pages: their style sheet and scripts.
///
/// The same headers as the pages; the scripts are ES modules.
#[utoipa::path(get, path = paths::PRIVACY_ASSET, tag = "privacy-centre",
    params(("file" = Asset, Path, description = "The file's name")),
    responses(
        (status = 200, description = "The file: a style sheet or an ES module",
            content((String = "text/css"), (String = "text/javascript"))),
        (status = 400, description = "A query parameter (the files take none), named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn asset(
    file: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let asset = Asset::parse(&file).ok_or_else(|| ApiError::not_found("file"))?;
    Params::new(query.into_inner()).finish()?;
    let (content_type, body) = asset.content();
    Ok(answer(content_type).body(body))
}
