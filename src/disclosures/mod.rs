//! The `disclosures` resource: authorizations to disclose a subject's data to a recipient (on
//! the subject's consent or a legal obligation, privacy policy principle 5), the record of every
//! disclosure, and the partner endpoints through which recipients receive what they may.

pub mod api;
pub mod model;
pub mod partner;
pub mod partner_read;
pub mod routes;

use crate::error::{ApiError, ApiResult};
use actix_web::http::StatusCode;
use actix_web::web;
use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::OpenApi;

/// The OpenAPI paths and schemas of this resource.
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::create_authorization,
        routes::list_authorizations,
        routes::get_authorization,
        routes::revoke_authorization,
        routes::record_disclosure,
        routes::list_disclosures,
        partner::read_subject,
        partner::list_subjects,
    ),
    components(schemas(
        api::DataCategory,
        api::LegalBasis,
        api::NewAuthorization,
        api::Authorization,
        api::AuthorizationList,
        api::Revocation,
        api::NewDisclosure,
        api::Disclosure,
        api::PartnerSubject,
        api::PartnerAddress,
    )),
    tags(
        (name = "disclosures", description = "Disclosure authorizations and the record of disclosures"),
        (name = "partner", description = "What recipients' own integrations may read"),
    )
)]
pub struct Api;

/// Registers this resource's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/subjects/{id}/disclosure-authorizations")
            .route(web::post().to(routes::create_authorization))
            .route(web::get().to(routes::list_authorizations)),
    )
    .service(
        web::resource("/v1/subjects/{id}/disclosure-authorizations/{aid}")
            .route(web::get().to(routes::get_authorization)),
    )
    .service(
        web::resource("/v1/subjects/{id}/disclosure-authorizations/{aid}/revoke")
            .route(web::post().to(routes::revoke_authorization)),
    )
    .service(
        web::resource("/v1/subjects/{id}/disclosures")
            .route(web::post().to(routes::record_disclosure))
            .route(web::get().to(routes::list_disclosures)),
    )
    .service(web::resource("/v1/partner/subjects").route(web::get().to(partner::list_subjects)))
    .service(
        web::resource("/v1/partner/subjects/{id}").route(web::get().to(partner::read_subject)),
    );
}

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
    subject_id: uuid::Uuid,
) -> ApiResult<(serde_json::Value, serde_json::Value)> {
    let now = Utc::now();
    let authorizations: Vec<api::Authorization> = model::authorizations_of(conn, subject_id)?
        .into_iter()
        .map(|(row, recipient_active)| api::Authorization::from_row(row, recipient_active, now))
        .collect();
    let disclosures: Vec<api::Disclosure> = model::disclosures_of(conn, subject_id, None, None)?
        .into_iter()
        .map(api::Disclosure::from)
        .collect();
    Ok((
        serde_json::to_value(authorizations).map_err(ApiError::internal)?,
        serde_json::to_value(disclosures).map_err(ApiError::internal)?,
    ))
}
