//! The breach register (Art. 33-34): each breach with its 72-hour deadline in clock hours, the
//! persons it touched computed from the disclosure ledger and the access log (ids only, kept
//! after erasure), its assessment, the authority's notification and the persons' communication.

pub mod api;
pub mod csv;
pub mod doc;
pub mod model;
pub mod reads;
pub mod routes;
pub mod steps;

/// The Prometheus gauges of the register, computed at each scrape; nothing when the database
/// cannot be reached.
pub async fn gauges(state: &crate::state::AppState) -> Vec<crate::metrics::ScrapedGauge> {
    let Ok((open, overdue)) = state.db.run(model::counts).await else {
        return Vec::new();
    };
    vec![
        ("breaches_open", "Breaches not yet closed", open),
        (
            "breach_authority_overdue",
            "Open breaches past notify_authority_by, the authority not notified, risk not assessed as none",
            overdue,
        ),
    ]
}
