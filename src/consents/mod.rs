//! The `consents` resource.

use actix_web::web;
use utoipa::OpenApi;

/// The OpenAPI paths and schemas of this resource.
#[derive(OpenApi)]
#[openapi()]
pub struct Api;

/// Registers this resource's routes.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
