//! Bodies of the outcome endpoints: a recipient's report and staff's recording.

use crate::domain::outcome::NoticeOutcome;
use crate::domain::text::LongText;
use crate::error::FieldError;
use crate::extract::Validate;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

/// What a recipient did about a notice.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "done", "completed_at": "2026-12-22T10:00:00Z"}))]
pub struct OutcomeReport {
    pub outcome: NoticeOutcome,
    /// Why; required for `refused` (at most 500 characters). It must name no personal value:
    /// it is kept sealed under the service's key, not the subject's.
    #[serde(default)]
    #[schema(
        max_length = 500,
        example = "we keep invoices for 7 years (Accounting Act § 12)"
    )]
    pub reason: Option<String>,
    /// When it was done: not in the future, not before the notice was queued.
    pub completed_at: DateTime<Utc>,
}

impl Validate for OutcomeReport {
    fn validate(&self) -> Vec<FieldError> {
        report_errors(self.outcome, self.reason.as_deref(), self.completed_at)
    }
}

/// An outcome recorded by staff (for a recipient that answered another way, or to correct one);
/// it replaces any outcome recorded before.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "outcome": "done", "completed_at": "2026-12-22T10:00:00Z",
    "override_reason": "the partner confirmed by registered letter of 2026-12-23"
}))]
pub struct StaffOutcome {
    pub outcome: NoticeOutcome,
    /// Why; required for `refused` (at most 500 characters, no personal value).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// When it was done: not in the future, not before the notice was queued.
    pub completed_at: DateTime<Utc>,
    /// Why staff record it rather than the recipient (at most 500 characters, no personal value).
    #[schema(max_length = 500, min_length = 1)]
    pub override_reason: String,
}

impl Validate for StaffOutcome {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = report_errors(self.outcome, self.reason.as_deref(), self.completed_at);
        errors.extend(LongText::field_errors(
            "override_reason",
            &self.override_reason,
        ));
        errors
    }
}

fn report_errors(
    outcome: NoticeOutcome,
    reason: Option<&str>,
    completed_at: DateTime<Utc>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match (reason, outcome) {
        (None, NoticeOutcome::Refused) => errors.push(FieldError::new(
            "reason",
            "is required when the outcome is `refused`",
        )),
        (Some(reason), _) => errors.extend(LongText::field_errors("reason", reason)),
        (None, _) => {}
    }
    errors.extend(past_instant("completed_at", completed_at));
    errors
}

/// A client's timestamp of something that happened: not in the future, not before 1900.
pub fn past_instant(field: &str, at: DateTime<Utc>) -> Option<FieldError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    if at > Utc::now() {
        Some(FieldError::new(field, "must not be in the future"))
    } else if earliest.is_some_and(|earliest| at < earliest) {
        Some(FieldError::new(field, "must not be before 1900-01-01"))
    } else {
        None
    }
}

/// Trims free text that passed validation.
pub fn trimmed(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}
