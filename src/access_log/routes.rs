//! The access log's own endpoints: search, per-subject listing, verification.

use actix_web::web;
use utoipa::OpenApi;

/// The OpenAPI paths and schemas of the access log.
#[derive(OpenApi)]
#[openapi()]
pub struct Api;

/// Registers the access-log routes.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
