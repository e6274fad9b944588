//! The `subjects` resource: the persons whose data PlanPro keeps, their rectification history
//! and the right-of-access export.

pub mod api;
pub mod export;
pub mod model;
pub mod read;
pub mod rectify;
pub mod routes;

use actix_web::web;
use utoipa::OpenApi;

/// The OpenAPI paths and schemas of this resource.
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::create_subject,
        routes::list_subjects,
        routes::get_subject,
        routes::rectify_subject,
        routes::list_rectifications,
        routes::export_subject,
    ),
    components(schemas(
        api::Address,
        api::Source,
        api::SubjectFields,
        api::Subject,
        api::SubjectPatch,
        api::Rectification,
        api::Localized,
        api::PurposeOfProcessing,
        api::RecipientCategory,
        api::SubjectExport,
        crate::domain::subject_kind::SubjectKind,
        crate::domain::source_type::SourceType,
        crate::domain::language::Language,
    )),
    tags((name = "subjects", description = "The persons whose data PlanPro keeps: records, rectification and the right of access")),
)]
pub struct Api;

/// Registers this resource's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/subjects")
            .route(web::get().to(routes::list_subjects))
            .route(web::post().to(routes::create_subject)),
    )
    .service(
        web::resource("/v1/subjects/{id}")
            .route(web::get().to(routes::get_subject))
            .route(web::patch().to(routes::rectify_subject)),
    )
    .service(
        web::resource("/v1/subjects/{id}/rectifications")
            .route(web::get().to(routes::list_rectifications)),
    )
    .service(
        web::resource("/v1/subjects/{id}/export").route(web::get().to(routes::export_subject)),
    );
}
