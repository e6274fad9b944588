//! Verifying the requester's identity before anything destructive is done for them. Under
//! `REQUIRE_VERIFIED_REQUESTS` an erasure or restriction citing an unverified request is refused
//! (`requests::citation`); a duplicate is verified on its own, never through the request it
//! repeats.

use super::api::PrivacyRequest;
use super::changes::change;
use super::model::RequestRow;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::PrivacyRequestId;
use crate::domain::outcome::VerificationMethod;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Validate;
use crate::notices::outcome_api::past_instant;
use crate::paths;
use crate::responses::{Auth, JsonBody, Precondition, RequestsWrite, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SubsecRound, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

/// How and when the requester's identity was verified.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"method": "eid", "verified_at": "2026-11-25T09:00:00Z"}))]
pub struct RequestVerification {
    pub method: VerificationMethod,
    /// When: not in the future, not before the request was received.
    pub verified_at: DateTime<Utc>,
    /// Who records it: the caller.
    #[serde(skip)]
    #[schema(ignore)]
    by: String,
}

impl Validate for RequestVerification {
    fn validate(&self) -> Vec<FieldError> {
        past_instant("verified_at", self.verified_at)
            .into_iter()
            .collect()
    }
}

/// Records the verification of the requester's identity.
///
/// Once per request (409 `already-verified`), while it is open (409 `request-closed`).
/// `verified_at` may not be before `received_at` (400). A duplicate (`duplicate_of`) is verified
/// on its own. `If-Match` with the request's `ETag` is required. Logged as `request.update`.
#[utoipa::path(post, path = paths::PRIVACY_REQUEST_VERIFICATION, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The request's id"),
        ("If-Match" = String, Header, description = "The `ETag` last read"),
    ),
    request_body = RequestVerification,
    responses(
        (status = 200, description = "Verified", body = PrivacyRequest, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields (an unknown method, a future `verified_at` or one before `received_at`), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already-verified` or `request-closed`", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Precondition, Unavailable,
    ))]
pub async fn verify_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<PrivacyRequestId>,
    body: BodyAfterAuth<RequestVerification>,
) -> actix_web::Result<HttpResponse> {
    let by = caller.actor.sub.clone();
    let body = async move {
        let mut body = body.read().await?;
        body.by = by;
        Ok(body)
    };
    change(&state, &caller, &req, id.into_inner(), body, verify).await
}

fn verify(
    _: &mut diesel::PgConnection,
    mut row: RequestRow,
    body: RequestVerification,
) -> ApiResult<RequestRow> {
    if body.verified_at < row.received_at {
        return Err(ApiError::invalid_field(
            "verified_at",
            "must not be before the request was received",
        ));
    }
    if row.verified_at.is_some() {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "already-verified",
            "the requester's identity was already verified",
        ));
    }
    row.verified_at = Some(body.verified_at.trunc_subsecs(6));
    row.verification_method = Some(body.method.as_str().to_owned());
    row.verified_by = Some(body.by);
    Ok(row)
}
