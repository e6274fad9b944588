//! The `consents` resource: purposes of processing, each subject's consent and opt-out flags with
//! their history, and bulk eligibility checks for campaigns.

pub mod api;
pub mod batch;
pub mod children;
pub mod confirm;
pub mod confirm_purpose;
pub mod confirm_routes;
pub mod confirmation;
pub mod eligibility_body;
pub mod erasure;
pub mod export;
pub mod export_routes;
pub mod model;
pub mod purpose_api;
pub mod routes;
pub mod state;
pub mod version_routes;
pub mod versions;

use crate::error::{ApiError, ApiResult};

/// The subject's flag for every purpose, as `GET /v1/subjects/{id}/consents` answers it.
pub fn consents_of(
    conn: &mut diesel::PgConnection,
    subject_id: crate::domain::ids::SubjectId,
) -> ApiResult<Vec<api::Consent>> {
    state::flags_of(conn, subject_id)?
        .into_iter()
        .map(api::Consent::try_from)
        .collect()
}

/// The subject's consents (every purpose, `unset` included) and consent history (newest first), for the right-of-access export.
pub fn export_for(
    conn: &mut diesel::PgConnection,
    subject_id: crate::domain::ids::SubjectId,
) -> ApiResult<(serde_json::Value, serde_json::Value)> {
    let consents = consents_of(conn, subject_id)?;
    let history = model::history(conn, subject_id, None, None, None)?
        .into_iter()
        .map(api::ConsentEvent::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((
        serde_json::to_value(consents).map_err(ApiError::internal)?,
        serde_json::to_value(history).map_err(ApiError::internal)?,
    ))
}
