//! The `outcome` filter of the notices' list: what the list's query and the outcomes' rules
//! both read.

use crate::domain::outcome::NoticeOutcome;
use chrono::NaiveDate;

/// The `outcome` filter of the notices' list.
#[derive(Debug, Clone, Copy)]
pub enum OutcomeFilter {
    /// Due an outcome that has not come.
    Pending,
    /// Due an outcome that has not come, and past its due date (before this Tallinn date).
    Overdue(NaiveDate),
    /// With this outcome.
    Is(NoticeOutcome),
}

impl OutcomeFilter {
    /// `pending`, `overdue` (as of `today`) or an outcome.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Self, String> {
        match text {
            "pending" => Ok(Self::Pending),
            "overdue" => Ok(Self::Overdue(today)),
            other => NoticeOutcome::parse(other).map(Self::Is).map_err(|_| {
                "must be one of `pending`, `overdue`, `done`, `not_held`, `refused`".to_owned()
            }),
        }
    }
}
