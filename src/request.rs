//! The middleware that tags every request with its id, measures it and logs it without personal
//! data, and adds the headers every response carries.

use crate::caller::{RequestId, REQUEST_ID};
use crate::error::ApiError;
use crate::openapi::route_table;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use std::time::Instant;

/// The longest path and query accepted (a cursor, filters and 200 ids fit many times over).
pub const MAX_URI_BYTES: usize = 8 * 1024;

fn acceptable_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Tags the request with its id, measures it, logs one line without personal data (the route
/// template, never the path or query), and adds the headers every response carries.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = method_name(req.method());
    let route = route_table::route_of(req.path()).map_or("unmatched", |r| r.template.as_str());
    let budget = req
        .app_data::<web::Data<crate::AppState>>()
        .map_or(std::time::Duration::from_secs(5), |s| s.db.budget());
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let mut res = if uri_len > MAX_URI_BYTES {
        // actix reads heads of up to 128 KiB; a URL this long is no request of ours.
        let problem = ApiError::client(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            format!("the path and query exceed {MAX_URI_BYTES} bytes"),
        );
        req.into_response(problem.error_response())
            .map_into_right_body()
    } else if req.uri().to_string().to_ascii_lowercase().contains("%00") {
        // PostgreSQL text cannot hold NUL: such a path or query is bad input, not a server fault.
        let problem = ApiError::invalid_field("url", "must not contain NUL characters");
        req.into_response(problem.error_response())
            .map_into_right_body()
    } else {
        // One deadline for all the request's database work (see db::with_deadline).
        let res = crate::db::with_deadline(started + budget, next.call(req)).await?;
        if res.status() == StatusCode::METHOD_NOT_ALLOWED && !is_problem(&res) {
            // actix answers a known resource's unknown method itself, with an empty body.
            let (req, _) = res.into_parts();
            let problem = route_table::method_not_allowed(&req);
            ServiceResponse::new(req, problem).map_into_right_body()
        } else {
            res.map_into_left_body()
        }
    };
    let status = res.status().as_u16();
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID), value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if route.starts_with("/v1/") {
        // Responses under /v1 may carry personal data: no cache may keep them.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let elapsed = started.elapsed();
    crate::metrics::record_request(method, route, status, elapsed);
    log::info!(
        target: "planpro_privacy::http",
        "{method} {route} {status} {:.1}ms request_id={request_id}",
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(res)
}

/// The method's name for metrics and logs; anything unusual is `OTHER`, so that a client cannot
/// grow the metrics without bound.
fn method_name(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn is_problem<B>(res: &ServiceResponse<B>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}
