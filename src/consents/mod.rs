//! The `consents` resource.

use actix_web::web;
use utoipa::OpenApi;

/// The OpenAPI paths and schemas of this resource.
#[derive(OpenApi)]
#[openapi()]
pub struct Api;

/// Registers this resource's routes.
pub fn configure(_cfg: &mut web::ServiceConfig) {}

/// The subject's consents (every purpose, `unset` included) and consent history (newest first), for the right-of-access export.
pub fn export_for(
    _conn: &mut diesel::PgConnection,
    _subject_id: uuid::Uuid,
) -> crate::error::ApiResult<(serde_json::Value, serde_json::Value)> {
    Ok((serde_json::json!([]), serde_json::json!([])))
}
