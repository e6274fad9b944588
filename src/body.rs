//! Request bodies read only when the handler asks, after it has checked the token and the scope,
//! and only within the body deadline: a caller without the scope (a partner token sending a bulk
//! body) or one that stalls mid-upload cannot make the service buffer and hold megabytes.

use crate::error::ApiError;
use crate::extract::{parse_object, Validate};
use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::header;
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::future::{ready, Ready};
use std::marker::PhantomData;
use std::time::Duration;
use utoipa::ToSchema;

/// The largest JSON body accepted by default.
pub const MAX_JSON_BYTES: usize = 256 * 1024;
/// The largest body of a bulk call (100,000 ids).
pub const MAX_BULK_JSON_BYTES: usize = 6 * 1024 * 1024;

/// A per-route body limit, set with `.app_data(BodyLimit(n))`.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

/// How long a whole body may take to arrive (`REQUEST_BODY_TIMEOUT_S`), set on the app.
#[derive(Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// The SHA-256 of the body as read, kept on the request when it carries an `Idempotency-Key`
/// (a retry must send the same body to get the first answer).
#[derive(Clone, Copy)]
pub struct BodyDigest(pub [u8; 32]);

/// A body not yet read.
pub struct Body {
    req: HttpRequest,
    payload: Payload,
}

impl FromRequest for Body {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(Ok(Self {
            req: req.clone(),
            payload: payload.take(),
        }))
    }
}

impl Body {
    /// Reads the whole JSON body: 415 unless JSON, 413 beyond the route's limit, 408 (and the
    /// connection closed) when it does not arrive within the body deadline.
    pub async fn bytes(mut self) -> Result<Bytes, actix_web::Error> {
        if !is_json(&self.req) {
            return Err(ApiError::client(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "the body must be application/json",
            )
            .into());
        }
        let limit = self
            .req
            .app_data::<BodyLimit>()
            .map_or(MAX_JSON_BYTES, |l| l.0);
        let declared = self
            .req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(closing(too_large(limit)));
        }
        let timeout = self
            .req
            .app_data::<BodyTimeout>()
            .map_or(Duration::from_secs(10), |t| t.0);
        let payload = &mut self.payload;
        let read = async move {
            let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(64 * 1024));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| ApiError::invalid_field("body", "the body could not be read"))?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body.freeze())
        };
        let body = match tokio::time::timeout(timeout, read).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => return Err(closing(e)),
            Err(_) => {
                return Err(closing(ApiError::client(
                    StatusCode::REQUEST_TIMEOUT,
                    "body-timeout",
                    format!("the body did not arrive within {} s", timeout.as_secs()),
                )));
            }
        };
        if let Some(state) = self.req.app_data::<actix_web::web::Data<crate::AppState>>() {
            crate::db::restart_deadline(state.db.budget());
        }
        if self.req.headers().contains_key(crate::idempotency::HEADER) {
            use sha2::{Digest, Sha256};
            let digest = BodyDigest(Sha256::digest(&body).into());
            self.req.extensions_mut().insert(digest);
        }
        Ok(body)
    }

    /// Reads the body and parses it with `parse`.
    pub async fn read_with<T>(
        self,
        parse: impl FnOnce(&[u8]) -> Result<T, ApiError>,
    ) -> Result<T, actix_web::Error> {
        let body = self.bytes().await?;
        Ok(parse(&body)?)
    }
}

/// A JSON object body of type `T`, read by [`JsonBody::read`] once the handler has checked the
/// caller's scope (and logged a refusal), so a malformed or oversized body cannot answer for it.
pub struct JsonBody<T> {
    body: Body,
    kind: PhantomData<T>,
}

impl<T> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(Ok(Self {
            body: Body {
                req: req.clone(),
                payload: payload.take(),
            },
            kind: PhantomData,
        }))
    }
}

impl<T: DeserializeOwned + ToSchema + Validate> JsonBody<T> {
    /// Reads and checks the body: every unknown, mistyped, missing, repeated or invalid field
    /// named in one 400.
    pub async fn read(self) -> Result<T, actix_web::Error> {
        self.body.read_with(parse_object::<T>).await
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
}

/// 413 for a body over `limit` bytes.
pub fn too_large(limit: usize) -> ApiError {
    ApiError::client(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!("the body exceeds {limit} bytes"),
    )
}

/// The problem, answered with `Connection: close`: the rest of the body is never read.
fn closing(error: ApiError) -> actix_web::Error {
    let mut response = error.error_response();
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    InternalError::from_response(error, response).into()
}
