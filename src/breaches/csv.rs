//! The breach register as CSV: one spreadsheet-safe row per breach.

use super::api::Breach;

const HEADER: &str = "id,status,aware_at,nature,window_from,window_to,recipient_id,actor,\
data_categories,notify_authority_by,risk,authority_notified_at,authority_reference,\
delay_reasons,communicated_at,communication_exemption,affected_count,closed_at\n";

/// The register's rows (descriptions are left out: they stay sealed outside the service).
pub fn register(items: &[Breach]) -> String {
    let mut out = String::from(HEADER);
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    for b in items {
        let notified = b.authority_notification.as_ref();
        let communicated = b.subject_communication.as_ref();
        let cells = [
            b.id.to_string(),
            b.status.clone(),
            b.aware_at.to_rfc3339(),
            b.nature
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            b.window.from.to_rfc3339(),
            b.window.to.to_rfc3339(),
            b.recipient_id.map(|r| r.to_string()).unwrap_or_default(),
            b.actor.clone().unwrap_or_default(),
            b.data_categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            b.notify_authority_by.to_rfc3339(),
            b.assessment
                .as_ref()
                .map(|a| a.risk.as_str().to_owned())
                .unwrap_or_default(),
            time(notified.map(|n| n.notified_at)),
            notified.map(|n| n.reference.clone()).unwrap_or_default(),
            notified
                .and_then(|n| n.delay_reasons.clone())
                .unwrap_or_default(),
            time(communicated.map(|c| c.communicated_at)),
            communicated
                .and_then(|c| c.exemption)
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            b.affected_count.map(|c| c.to_string()).unwrap_or_default(),
            time(b.closed_at),
        ];
        crate::csv::row(&mut out, &cells);
    }
    out
}
