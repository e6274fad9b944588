//! The `privacy-requests` resource: what people ask of PlanPro under the GDPR (to see, correct,
//! erase or restrict their data, or to object), each with its legal deadline (Art. 12(3)),
//! its one possible extension and its outcome.

pub mod api;
pub mod changes;
pub mod citation;
pub mod closing;
pub mod list;
pub mod login;
pub mod metrics;
pub mod model;
pub mod routes;
pub mod task_api;
pub mod task_model;
pub mod tasks;
pub mod verification;

use crate::error::{ApiError, ApiResult};

/// Every request about the subject, oldest first, for the right-of-access export.
pub fn export_for(
    conn: &mut diesel::PgConnection,
    subject_id: crate::domain::ids::SubjectId,
) -> ApiResult<serde_json::Value> {
    let requests = model::of_subject(conn, subject_id)?
        .into_iter()
        .map(|row| api::PrivacyRequest::with_details(conn, row))
        .collect::<ApiResult<Vec<_>>>()?;
    serde_json::to_value(requests).map_err(ApiError::internal)
}

/// The Prometheus gauges of privacy requests, computed from the database at each scrape;
/// nothing when it cannot be reached (the scrape still answers).
pub async fn gauges(state: &crate::state::AppState) -> Vec<crate::metrics::ScrapedGauge> {
    let today = crate::domain::deadline::tallinn_date(chrono::Utc::now());
    let Ok(counts) = state.db.run(move |conn| model::counts(conn, today)).await else {
        return Vec::new();
    };
    vec![
        (
            "privacy_requests_open",
            "Privacy requests not yet closed",
            counts.open,
        ),
        (
            "privacy_requests_overdue",
            "Open privacy requests whose due_on has passed (Europe/Tallinn dates)",
            counts.overdue,
        ),
        (
            "privacy_requests_due_within_week",
            "Open privacy requests due today or in the next six days",
            counts.due_within_week,
        ),
    ]
}
