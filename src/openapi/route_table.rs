//! The documented routes as a table read from the OpenAPI document: what metrics and logs name
//! a request by (its template, never its path), and what a 405 lists in `Allow`.

use crate::error::ApiError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The part of the document the table needs: its paths' methods, the rest skipped unread.
#[derive(serde::Deserialize)]
struct Paths {
    paths: BTreeMap<String, Methods>,
}

#[derive(serde::Deserialize)]
struct Methods {
    get: Option<IgnoredAny>,
    put: Option<IgnoredAny>,
    post: Option<IgnoredAny>,
    delete: Option<IgnoredAny>,
    patch: Option<IgnoredAny>,
}

/// The answer to a method the path does not support (404 when no documented path matches).
pub fn method_not_allowed(req: &HttpRequest) -> HttpResponse {
    let Some(allowed) = allowed_methods(req.path()) else {
        return ApiError::not_found("route").error_response();
    };
    let mut res = ApiError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} is not allowed here; use {allowed}", req.method()),
    )
    .error_response();
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

/// A documented path template and the methods it takes.
pub struct Route {
    /// The template, such as `/v1/subjects/{id}`: what metrics and logs name.
    pub template: String,
    segments: Vec<String>,
    /// The methods, as an `Allow` header lists them.
    pub allowed: String,
}

/// The documented route a path belongs to, found by comparing segments: cheap enough for every
/// request (the router's own regex matching is not repeated for metrics).
pub fn route_of(path: &str) -> Option<&'static Route> {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        // Read from the committed text, not built from the code: building the whole document
        // costs several MiB of heap for a table of a few KiB.
        let paths: BTreeMap<String, Methods> = serde_json::from_str::<Paths>(super::COMMITTED)
            .map(|doc| doc.paths)
            .unwrap_or_default();
        paths
            .into_iter()
            .map(|(template, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ];
                let allowed: Vec<&str> = methods
                    .iter()
                    .filter(|(_, on)| *on)
                    .map(|(m, _)| *m)
                    .collect();
                Route {
                    segments: template.split('/').map(str::to_owned).collect(),
                    template,
                    allowed: allowed.join(", "),
                }
            })
            .collect()
    });
    let mut best: Option<(&Route, usize)> = None;
    for route in routes {
        let mut literal = 0;
        let mut parts = path.split('/');
        let fits = route.segments.iter().all(|t| match parts.next() {
            Some(s) if t == s => {
                literal += 1;
                true
            }
            Some(s) => t.starts_with('{') && !s.is_empty(),
            None => false,
        }) && parts.next().is_none();
        // A literal segment beats a parameter: /v1/access-logs/verify is not /v1/access-logs/{id}.
        if fits && best.is_none_or(|(_, n)| literal > n) {
            best = Some((route, literal));
        }
    }
    best.map(|(route, _)| route)
}

fn allowed_methods(path: &str) -> Option<String> {
    route_of(path).map(|r| r.allowed.clone())
}
