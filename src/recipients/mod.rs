//! The `recipients` resource: the registry of organisations that may receive personal data
//! (privacy policy, principle 10).

pub mod api;
pub mod model;
pub mod routes;

use actix_web::web;
use utoipa::OpenApi;

/// The OpenAPI paths and schemas of this resource.
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::create_recipient,
        routes::list_recipients,
        routes::get_recipient,
        routes::patch_recipient,
    ),
    components(schemas(
        api::NewRecipient,
        api::RecipientPatch,
        api::Recipient,
        api::RecipientCategory,
        api::RecipientStatus,
    )),
    tags((name = "recipients", description = "The organisations that may receive personal data"))
)]
pub struct Api;

/// Registers this resource's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/recipients")
            .route(web::post().to(routes::create_recipient))
            .route(web::get().to(routes::list_recipients)),
    )
    .service(
        web::resource("/v1/recipients/{id}")
            .route(web::get().to(routes::get_recipient))
            .route(web::patch().to(routes::patch_recipient)),
    );
}
