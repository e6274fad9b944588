//! The confirmation link's endpoint: `POST /v1/consents/confirmations`, called without a bearer
//! token by the person who received the link.

use super::confirm::{self, ip_prefix, ConfirmationRequest};
use crate::body::JsonBody;
use crate::domain::consent_state::ConsentState;
use crate::error::{ApiError, ApiResult};
use crate::paths;
use crate::responses::Unavailable;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The longest user agent kept as evidence.
const MAX_USER_AGENT_CHARS: usize = 500;

/// A confirmed grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationAnswer {
    /// The purpose's id.
    pub purpose: String,
    /// Always `given`.
    pub state: ConsentState,
    pub confirmed_at: DateTime<Utc>,
}

/// Confirms a double opt-in grant with its one-time token (no bearer token).
///
/// The grant becomes `given` from now (its validity counts from now), with a consent event
/// (actor `link:confirmation`; evidence: the connection's /24 or /48 network and the user agent)
/// and its receipt, and writes `consent.confirm`. An unknown or malformed token is 404 and
/// writes nothing; an erased subject is 410 `subject-erased`; a token used, replaced,
/// withdrawn, invalidated by a material version or older than 168 hours is 410
/// `confirmation-expired`; each refusal of a known token writes a denied `consent.confirm`.
#[utoipa::path(post, path = paths::CONSENT_CONFIRMATIONS, tag = "consents",
    request_body = ConfirmationRequest,
    responses(
        (status = 200, description = "The grant is confirmed", body = ConfirmationAnswer),
        (status = 400, description = "Not a JSON object with a `token` string", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject-erased`, or `confirmation-expired`: used, replaced, withdrawn, invalidated or lapsed", body = crate::error::Problem, content_type = "application/problem+json"),
        crate::responses::JsonBody, Unavailable,
    ))]
pub async fn confirm_consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<ConfirmationRequest>,
) -> actix_web::Result<HttpResponse> {
    let (hash, request_id) = confirm::token_of(&req, body).await?;
    let evidence = evidence_of(&req)?;
    let confirmed = state
        .db
        .transaction(move |conn| confirm::confirm(conn, &hash, &evidence, &request_id))
        .await??;
    Ok(HttpResponse::Ok().json(ConfirmationAnswer {
        purpose: confirmed.purpose,
        state: ConsentState::Given,
        confirmed_at: confirmed.confirmed_at,
    }))
}

/// The evidence of the confirming request, as RFC 8785 JSON: `{"ip_prefix", "user_agent"}`.
fn evidence_of(req: &HttpRequest) -> ApiResult<String> {
    let prefix = req.peer_addr().map(|a| ip_prefix(a.ip()));
    let agent: Option<String> = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.chars()
                .filter(|c| !c.is_control())
                .take(MAX_USER_AGENT_CHARS)
                .collect()
        });
    // serde_json's maps keep their keys sorted and print without spaces: RFC 8785's form here.
    serde_json::to_string(&serde_json::json!({"ip_prefix": prefix, "user_agent": agent}))
        .map_err(ApiError::internal)
}
