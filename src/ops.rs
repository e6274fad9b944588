//! Operational endpoints: liveness, readiness, metrics.

use crate::error::{ApiError, ApiResult};
use crate::paths;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

/// A health answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    pub status: &'static str,
}

/// Liveness: the process is up and answering. It never touches the database.
#[utoipa::path(get, path = paths::HEALTHZ, tag = "operations",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers and every migration is applied; 503 otherwise.
#[utoipa::path(get, path = paths::READYZ, tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Database unreachable, migrations pending, or checkpoint signing refused because the database is behind the last signed checkpoint (`checkpoints-refused`, with the reason)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    // A probe must answer in time even while the database hangs.
    let current = state
        .db
        .run_within(READINESS_LIMIT, |conn| {
            Ok(crate::db::migrations_current(conn))
        })
        .await?;
    if !current {
        return Err(ApiError::Unavailable);
    }
    if let Some(why) = state.sealer.proofs().alarm() {
        return Err(ApiError::client(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "checkpoints-refused",
            why,
        ));
    }
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// How long readiness waits on the database before answering 503.
const READINESS_LIMIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Prometheus metrics in the OpenMetrics text format (which Prometheus scrapes natively).
#[utoipa::path(get, path = paths::METRICS, tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "application/openmetrics-text")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (open, idle, max) = state.db.usage();
    let mut scraped = crate::requests::gauges(&state).await;
    scraped.extend(crate::notices::gauges(&state).await);
    let histograms: Vec<_> = crate::requests::metrics::histogram(&state)
        .await
        .into_iter()
        .collect();
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(crate::metrics::render(
            open,
            idle,
            max,
            &scraped,
            &histograms,
        ))
}
