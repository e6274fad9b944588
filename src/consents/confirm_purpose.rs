//! `POST /v1/consents/confirmations/purpose`: what a confirmation link asks the person to agree
//! to, for the confirmation page to show before the person presses its button. It does not use
//! the token: only `POST /v1/consents/confirmations` does.

use super::confirm::{entry, live_or_denied, token_of, ConfirmationRequest};
use super::confirmation::VALID_HOURS;
use super::versions::{self, VersionText};
use crate::access_log::{self, Action, Outcome};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paths;
use crate::responses::Unavailable;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The purpose a pending grant asks the person to confirm, in the version they were shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingPurpose {
    /// The purpose's id.
    pub purpose: String,
    /// The version granted.
    pub purpose_version: i32,
    /// That version's text in each language.
    pub text: VersionText,
    /// That version's privacy policy, when it names one.
    pub policy_url: Option<String>,
    /// Until when the link can confirm.
    pub confirmation_expires_at: DateTime<Utc>,
}

/// The purpose a confirmation token asks the person to confirm (no bearer token).
///
/// Reads, never uses, the token: the grant stays pending until `POST
/// /v1/consents/confirmations`. The same refusals as confirming: an unknown or malformed token
/// is 404 and writes nothing; an erased subject 410 `subject-erased`; a used, replaced,
/// withdrawn, invalidated or lapsed token 410 `confirmation-expired`. A read writes
/// `consent.read` about the person, actor `link:confirmation`; a refusal of a known token, a
/// denied one.
#[utoipa::path(post, path = paths::CONSENT_CONFIRMATION_PURPOSE, tag = "consents",
    request_body = ConfirmationRequest,
    responses(
        (status = 200, description = "The purpose and its text", body = PendingPurpose),
        (status = 400, description = "Not a JSON object with a `token` string", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject-erased`, or `confirmation-expired`: used, replaced, withdrawn, invalidated or lapsed", body = crate::error::Problem, content_type = "application/problem+json"),
        crate::responses::JsonBody, Unavailable,
    ))]
pub async fn pending_purpose(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<ConfirmationRequest>,
) -> actix_web::Result<HttpResponse> {
    let (hash, request_id) = token_of(&req, body).await?;
    let answer = state
        .db
        .transaction(move |conn| -> ApiResult<Result<PendingPurpose, ApiError>> {
            let grant = match live_or_denied(conn, &hash, false, Action::ConsentRead, &request_id)?
            {
                Ok(grant) => grant,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let version = versions::find(conn, &grant.purpose, grant.purpose_version)?
                .ok_or_else(|| ApiError::internal("a grant names a version that is gone"))?;
            let read = entry(
                grant.subject,
                Action::ConsentRead,
                Outcome::Allowed,
                &request_id,
            );
            access_log::record(conn, &[read])?;
            Ok(Ok(PendingPurpose {
                purpose: grant.purpose,
                purpose_version: grant.purpose_version,
                text: VersionText {
                    et: Some(version.text_et),
                    en: Some(version.text_en),
                    ru: version.text_ru,
                },
                policy_url: version.policy_url,
                confirmation_expires_at: grant.created_at + Duration::hours(VALID_HOURS),
            }))
        })
        .await??;
    Ok(HttpResponse::Ok().json(answer))
}
