//! What every request carries: its id, the stated purpose, and the authenticated caller; and the
//! middleware that tags, measures and logs each request without personal data.

use crate::auth::{Actor, Scope};
use crate::error::ApiError;
use crate::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use std::future::{ready, Ready};
use std::time::Instant;

/// The request id header, taken from the caller or generated.
pub const REQUEST_ID: &str = "x-request-id";
/// The optional statement of why personal data is accessed.
pub const ACCESS_PURPOSE: &str = "x-access-purpose";
/// The longest accepted `X-Access-Purpose`.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// The id of this request, as stored in the access log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

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
    let route = crate::server::route_of(req.path()).map_or("unmatched", |r| r.template.as_str());
    let mut res = if req.uri().to_string().to_ascii_lowercase().contains("%00") {
        // PostgreSQL text cannot hold NUL: such a path or query is bad input, not a server fault.
        let problem = ApiError::invalid_field("url", "must not contain NUL characters");
        req.into_response(problem.error_response())
            .map_into_right_body()
    } else {
        let res = next.call(req).await?;
        if res.status() == StatusCode::METHOD_NOT_ALLOWED && !is_problem(&res) {
            // actix answers a known resource's unknown method itself, with an empty body.
            let (req, _) = res.into_parts();
            let problem = crate::server::method_not_allowed(&req);
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

/// The authenticated caller of a `/v1` endpoint, with the request's id and stated purpose.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub request_id: String,
    pub purpose: Option<String>,
}

impl Caller {
    /// 403 unless the token carries the scope. Prefer [`crate::access_log::Audit::authorize`] on
    /// endpoints about personal data, which also logs the refusal.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.actor.has(scope) {
            Ok(())
        } else {
            Err(ApiError::missing_scope(scope.as_str()))
        }
    }
}

/// The token of the `Authorization: Bearer` header.
fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("a bearer token is required".into()))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("the Authorization scheme must be Bearer".into()))
}

fn caller_from(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer_token(req)?;
    let actor = state.verifier.verify(token)?;
    let purpose = match req.headers().get(ACCESS_PURPOSE) {
        None => None,
        Some(raw) => {
            let text = std::str::from_utf8(raw.as_bytes())
                .map_err(|_| ApiError::invalid_field("X-Access-Purpose", "must be UTF-8 text"))?
                .trim();
            if let Err(message) = crate::domain::text::check_controls(text, false) {
                return Err(ApiError::invalid_field("X-Access-Purpose", message));
            }
            if text.chars().count() > MAX_PURPOSE_CHARS {
                return Err(ApiError::invalid_field(
                    "X-Access-Purpose",
                    format!("must be at most {MAX_PURPOSE_CHARS} characters"),
                ));
            }
            (!text.is_empty()).then(|| text.to_owned())
        }
    };
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    Ok(Caller {
        actor,
        request_id,
        purpose,
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = futures_util::future::Either<
        Ready<Result<Self, Self::Error>>,
        futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>,
    >;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        use futures_util::future::Either;
        let refresh = req
            .app_data::<web::Data<AppState>>()
            .zip(bearer_token(req).ok())
            .and_then(|(state, token)| state.verifier.needs_refresh(token));
        let Some(set) = refresh else {
            return Either::Left(ready(caller_from(req)));
        };
        // The token names a key the identity provider's set lacks: it may just have rotated.
        // Fetch the set off the worker thread, wait for it a little, then check the token.
        let req = req.clone();
        Either::Right(Box::pin(async move {
            let wait = crate::auth::jwks::ON_DEMAND_WAIT;
            let fetch = web::block(move || set.refresh(wait));
            if let Ok(Ok(Err(why))) = actix_web::rt::time::timeout(wait, fetch).await {
                log::warn!("JWKS: fetch for an unknown `kid` failed ({why})");
            }
            caller_from(&req)
        }))
    }
}
