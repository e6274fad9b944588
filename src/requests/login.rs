//! Requests the person files themselves (`POST /v1/me/privacy-requests`): how their login
//! vouched for them, and their own words, sealed under their key.

use super::model::RequestRow;
use crate::at_rest::{Cipher, Place};
use crate::auth::subject::SubjectLogin;
use crate::domain::ids::PrivacyRequestId;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the login was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginMethod {
    /// An electronic identity, vouched for by the subject identity provider (TARA, eeID).
    Eid,
    /// A token minted with the staff key (`token --self`): it proves no eID login, and does not
    /// count as verified under `REQUIRE_VERIFIED_REQUESTS`.
    StaffKey,
}

/// How the person's own login vouched for them when they filed the request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"method": "eid", "issuer": "https://tara.ria.ee", "acr": "high",
    "amr": ["idcard"], "verified_at": "2026-12-07T09:59:30Z"}))]
pub struct LoginVerification {
    pub method: LoginMethod,
    /// The token's `iss`, or `staff-key`.
    pub issuer: String,
    /// The login's level of assurance, when the token states one.
    #[schema(required = true)]
    pub acr: Option<String>,
    /// How the person authenticated (`amr`), as the token lists it.
    pub amr: Vec<String>,
    /// When they logged in: the token's `auth_time`, else its `iat`, else when it was checked.
    pub verified_at: DateTime<Utc>,
}

impl LoginVerification {
    /// The verification a login gives a request received at `now`.
    pub fn of(login: &SubjectLogin, now: DateTime<Utc>) -> Self {
        let at = login
            .verified_at
            .and_then(|secs| i64::try_from(secs).ok())
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            // A login is never after the request it made (clocks may differ by seconds).
            .map_or(now, |at| at.min(now));
        Self {
            method: if login.is_eid() {
                LoginMethod::Eid
            } else {
                LoginMethod::StaffKey
            },
            issuer: login.issuer.clone(),
            acr: login.acr.map(|a| a.as_str().to_owned()),
            amr: login.amr.clone(),
            verified_at: at,
        }
    }

    /// As stored: RFC 8785 JSON.
    pub fn stored(&self) -> ApiResult<String> {
        serde_json_canonicalizer::to_string(self).map_err(ApiError::internal)
    }

    /// Read back from a stored request.
    pub fn of_row(row: &RequestRow) -> ApiResult<Option<Self>> {
        row.login_verification
            .as_deref()
            .map(|text| serde_json::from_str(text).map_err(ApiError::internal))
            .transpose()
    }
}

fn details_at(id: &PrivacyRequestId) -> Place<'_> {
    Place {
        table: "privacy_requests",
        column: "details_enc",
        row: id.0.as_bytes(),
    }
}

/// Seals the person's own words under their key.
pub fn seal_details(key: &Cipher, id: &PrivacyRequestId, details: &str) -> Vec<u8> {
    key.seal(details_at(id), details.as_bytes())
}

/// The person's own words, opened with their key (none once erased, or when there are none).
pub fn open_details(conn: &mut PgConnection, row: &RequestRow) -> ApiResult<Option<String>> {
    let (Some(subject), Some(sealed)) = (row.subject_id, row.details_enc.as_deref()) else {
        return Ok(None);
    };
    let key = crate::at_rest::subject_key(conn, subject)?;
    Ok(key.and_then(|k| k.open_text(details_at(&row.id), Some(sealed))))
}
