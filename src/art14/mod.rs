//! Art. 14 information: persons whose data PlanPro did not get from them are owed information
//! within a month (sooner when their data is first disclosed). Their status is computed when
//! read from the stored start of the month, the notices and exemptions recorded and the
//! disclosure ledger; the due list and the `art14_overdue` gauge; `ART14_ENFORCEMENT=block`
//! refuses disclosures of persons not yet told (see `disclosures`).

pub mod api;
pub mod doc;
pub mod model;
pub mod routes;
pub mod rule;

/// The gauge `art14_overdue`, computed at each scrape; nothing when the database cannot be
/// reached.
pub async fn gauges(state: &crate::state::AppState) -> Vec<crate::metrics::ScrapedGauge> {
    let Ok(overdue) = state.db.run(model::overdue).await else {
        return Vec::new();
    };
    vec![(
        "art14_overdue",
        "Persons owed Art. 14 information, neither told nor exempt, past their due date",
        overdue,
    )]
}
