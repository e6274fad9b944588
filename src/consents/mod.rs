//! The `consents` resource: purposes of processing, each subject's consent and opt-out flags with
//! their history, and bulk eligibility checks for campaigns.

pub mod api;
pub mod batch;
pub mod model;
pub mod routes;

use crate::error::{ApiError, ApiResult};
use crate::extract::{BodyLimit, MAX_BULK_JSON_BYTES};
use actix_web::{guard, web};
use utoipa::OpenApi;

/// The OpenAPI paths and schemas of this resource.
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::list_purposes,
        routes::create_purpose,
        routes::get_purpose,
        routes::list_consents,
        routes::set_consent,
        routes::consent_history,
        routes::check_eligibility,
    ),
    components(schemas(
        api::Basis,
        api::Decision,
        api::ConsentStatus,
        api::Method,
        api::Descriptions,
        api::Purpose,
        api::PurposeList,
        api::NewDescriptions,
        api::NewPurpose,
        api::Consent,
        api::ConsentChange,
        api::ConsentEvent,
        api::EligibilityRequest,
        api::Eligibility,
    )),
    tags((name = "consents", description = "Purposes of processing, consent and opt-out flags, eligibility checks")),
)]
pub struct Api;

/// Registers this resource's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/purposes")
            .route(web::get().to(routes::list_purposes))
            .route(web::post().to(routes::create_purpose)),
    )
    .service(web::resource("/v1/purposes/{purpose}").route(web::get().to(routes::get_purpose)))
    .service(
        web::resource("/v1/subjects/{id}/consents").route(web::get().to(routes::list_consents)),
    )
    // Only GET: a PUT to `.../consents/history` sets the flag of a purpose named `history`.
    .service(
        web::resource("/v1/subjects/{id}/consents/history")
            .guard(guard::Get())
            .route(web::get().to(routes::consent_history)),
    )
    .service(
        web::resource("/v1/subjects/{id}/consents/{purpose}")
            .route(web::put().to(routes::set_consent)),
    )
    .service(
        web::resource("/v1/consents/eligibility")
            .app_data(BodyLimit(MAX_BULK_JSON_BYTES))
            .route(web::post().to(routes::check_eligibility)),
    );
}

/// The subject's flag for every purpose, as `GET /v1/subjects/{id}/consents` answers it.
pub fn consents_of(
    conn: &mut diesel::PgConnection,
    subject_id: uuid::Uuid,
) -> ApiResult<Vec<api::Consent>> {
    model::flags_of(conn, subject_id)?
        .into_iter()
        .map(api::Consent::try_from)
        .collect()
}

/// The subject's consents (every purpose, `unset` included) and consent history (newest first), for the right-of-access export.
pub fn export_for(
    conn: &mut diesel::PgConnection,
    subject_id: uuid::Uuid,
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
