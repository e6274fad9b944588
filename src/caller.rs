//! The authenticated caller of a `/v1` endpoint, as handlers receive it: who (from the bearer
//! token), with the request's id and stated purpose, which every access-log entry carries.

use crate::access_log::{Action, NewEntry, Outcome};
use crate::auth::{Actor, Scope};
use crate::domain::ids::SubjectId;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use std::future::{ready, Ready};
use uuid::Uuid;

/// The request id header, taken from the caller or generated.
pub const REQUEST_ID: &str = "x-request-id";
/// The optional statement of why personal data is accessed.
pub const ACCESS_PURPOSE: &str = "x-access-purpose";
/// The longest accepted `X-Access-Purpose`.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// The id of this request, as stored in the access log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// The request's id, which the request-id middleware set (a fresh one if it did not).
    pub fn of(req: &HttpRequest) -> String {
        req.extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_else(|| Uuid::now_v7().to_string())
    }
}

/// The authenticated caller of a `/v1` endpoint, with the request's id and stated purpose.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub request_id: String,
    pub purpose: Option<String>,
}

impl Caller {
    /// An access-log entry for this caller's request about one subject (or none).
    pub fn entry(
        &self,
        action: Action,
        subject_id: Option<SubjectId>,
        outcome: Outcome,
    ) -> NewEntry {
        NewEntry::for_actor(
            &self.actor,
            &self.request_id,
            self.purpose.as_deref(),
            action,
            subject_id.map(SubjectId::uuid),
            outcome,
        )
    }

    /// 403 unless the token carries the scope. Prefer [`crate::state::AppState::authorize`] on
    /// endpoints about personal data, which also logs the refusal.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.actor.has(scope) {
            Ok(())
        } else {
            Err(ApiError::missing_scope(scope.as_str()))
        }
    }
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
    let request_id = RequestId::of(req);
    Ok(Caller {
        actor,
        request_id,
        purpose,
    })
}

/// The token of the `Authorization: Bearer` header.
fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized(crate::error::NO_BEARER_TOKEN.into()))?;
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
