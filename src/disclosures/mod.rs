//! The `disclosures` resource: authorizations to disclose a subject's data to a recipient (on
//! the subject's consent or a legal obligation, privacy policy principle 5), the record of every
//! disclosure, and the partner endpoints through which recipients receive what they may.

pub mod api;
pub mod authorizations;
mod fields;
pub mod model;
pub mod partner;
pub mod partner_read;
pub mod records;
pub mod withheld;
pub mod withholding;

use crate::error::{ApiError, ApiResult};
use actix_web::http::StatusCode;
use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Every authorization of the subjects `{subjects}` (an array) still in force revoked at `{at}` by `{actor}` with the
/// reason `{revoked_reason}`: a data-modifying CTE of the erasure's one statement
/// (`rights::erasure`).
pub const REVOKE_ALL: &str = "a AS (UPDATE disclosure_authorizations SET revoked_at = {at}, \
       revoked_reason = {revoked_reason}, revoked_by = {actor} \
     WHERE subject_id = ANY({subjects}::uuid[]) AND revoked_at IS NULL)";

/// 403 `disclosure-not-authorized`: no active authorization permits what was asked.
pub fn not_authorized(detail: impl Into<String>) -> ApiError {
    ApiError::client(StatusCode::FORBIDDEN, "disclosure-not-authorized", detail)
}

/// A strong `ETag` for a representation without a stored version: a digest of its JSON.
pub fn etag_of(body: &impl Serialize) -> String {
    let json = serde_json::to_vec(body).unwrap_or_default();
    let digest = Sha256::digest(&json);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The subject's disclosure authorizations (each with `active` computed now) and disclosures,
/// oldest first, for the right-of-access export.
pub fn export_for(
    conn: &mut diesel::PgConnection,
    subject_id: crate::domain::ids::SubjectId,
) -> ApiResult<(serde_json::Value, serde_json::Value)> {
    let now = Utc::now();
    let authorizations: Vec<api::Authorization> = model::authorizations_of(conn, subject_id)?
        .into_iter()
        .map(|opened| api::Authorization::from_row(opened, now))
        .collect::<ApiResult<_>>()?;
    let disclosures: Vec<api::Disclosure> = model::disclosures_of(conn, subject_id, None, None)?
        .into_iter()
        .map(api::Disclosure::try_from)
        .collect::<ApiResult<_>>()?;
    Ok((
        serde_json::to_value(authorizations).map_err(ApiError::internal)?,
        serde_json::to_value(disclosures).map_err(ApiError::internal)?,
    ))
}
