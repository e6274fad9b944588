//! Operational endpoints: liveness, readiness, metrics.

use crate::error::{ApiError, ApiResult};
use crate::paths;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
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

/// A readiness answer: ready, with the alarms that stand (none: `[]`).
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: &'static str,
    /// Alarms that need an operator while the service goes on serving:
    /// `checkpoints-refused` (the database no longer extends the checkpoints this instance signed
    /// or read, so none is signed until `planpro-privacy accept-rollback`) and `sealer-failing`
    /// (access-log sealing rounds have failed one after another for a while).
    pub alarms: Vec<&'static str>,
}

/// Readiness: the connection reaches a primary that accepts writes and every migration is
/// applied; 503 with `Retry-After` otherwise (a standby, a read-only or shutting-down server).
/// Alarms that do not stop serving are listed in a 200.
#[utoipa::path(get, path = paths::READYZ, tag = "operations",
    responses(
        (status = 200, description = "Ready to serve; `alarms` lists what needs an operator", body = Readiness),
        (status = 503, description = "Database unreachable, read-only (a standby), shutting down, or migrations pending (`service-unavailable`, with `Retry-After`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    // A probe must answer in time even while the database hangs.
    let ready = state
        .db
        .run_within(READINESS_LIMIT, |conn| {
            Ok(crate::db::accepts_writes(conn)? && crate::db::migrations_current(conn))
        })
        .await?;
    if !ready {
        return Err(ApiError::Unavailable);
    }
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        alarms: state.sealer.proofs().alarms(),
    }))
}

/// How long readiness waits on the database before answering 503.
const READINESS_LIMIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Prometheus metrics: the classic text format (0.0.4), or OpenMetrics when `Accept` asks for
/// `application/openmetrics-text` (as Prometheus does).
#[utoipa::path(get, path = paths::METRICS, tag = "operations",
    responses((status = 200, description = "Metrics", content(
        (String = "text/plain"),
        (String = "application/openmetrics-text"),
    ))))]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (open, idle, max) = state.db.usage();
    let mut scraped = crate::requests::gauges(&state).await;
    scraped.extend(crate::access_log::witness::gauges(
        &state.sealer.proofs().witness,
    ));
    scraped.extend(crate::notices::gauges(&state).await);
    scraped.extend(crate::breaches::gauges(&state).await);
    let histograms = crate::requests::metrics::histograms(&state).await;
    let text = crate::metrics::render(
        open,
        idle,
        max,
        &scraped,
        &histograms,
        &state.background.statuses(),
    );
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if crate::metrics::wants_openmetrics(accept) {
        HttpResponse::Ok()
            .content_type(crate::metrics::CONTENT_TYPE)
            .body(text)
    } else {
        HttpResponse::Ok()
            .content_type(crate::metrics::CLASSIC_CONTENT_TYPE)
            .body(crate::metrics::classic(&text))
    }
}
