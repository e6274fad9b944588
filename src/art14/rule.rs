//! The Art. 14 rule, pure (no database, no clock): when a person whose data came from elsewhere
//! must have been told, and where they stand. The month and the working days are the requests'
//! (`domain::deadline`); the first disclosure brings the date forward (Art. 14(3)(c)).

use crate::domain::deadline::{due_on as month_due, tallinn_date};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// Where a person stands with the information owed to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Art14State {
    /// Not yet told, and `due_on` is today or later.
    Due,
    /// Not yet told and not exempt, and today is after `due_on`.
    Overdue,
    /// Told (an information notice is recorded).
    Informed,
    /// Need not be told (an Art. 14(5) exemption is recorded).
    Exempt,
}

/// The Tallinn date the month runs from: the collection's, else the record's creation's.
pub fn counts_from(collected_at: Option<DateTime<Utc>>, created_at: DateTime<Utc>) -> NaiveDate {
    tallinn_date(collected_at.unwrap_or(created_at))
}

/// The due date of the month alone: one month after `counts_from`, moved to the next working day.
pub fn month_due_on(counts_from: NaiveDate) -> NaiveDate {
    // Past the calendar's end there is no month after; such a date is never stored (it is
    // refused as in the future), so the start itself stands in.
    month_due(counts_from, 1).unwrap_or(counts_from)
}

/// `due_on`: the month's date, or the Tallinn date of the first disclosure when earlier.
pub fn due_on(counts_from: NaiveDate, first_disclosed_at: Option<DateTime<Utc>>) -> NaiveDate {
    let month = month_due_on(counts_from);
    first_disclosed_at
        .map(tallinn_date)
        .map_or(month, |first| first.min(month))
}

/// The state on `today`: informed first, then exempt, then due or overdue.
pub fn state(informed: bool, exempt: bool, due_on: NaiveDate, today: NaiveDate) -> Art14State {
    if informed {
        Art14State::Informed
    } else if exempt {
        Art14State::Exempt
    } else if today > due_on {
        Art14State::Overdue
    } else {
        Art14State::Due
    }
}

/// The first `counts_from` whose month's due date is `day` or later: the month's date is before
/// `day` exactly when `counts_from` is before this one, so a query can filter on the stored
/// date (and its index) while the rule stays written once, here.
pub fn month_due_before_bound(day: NaiveDate) -> NaiveDate {
    // The month's date is at most 31 + 5 days after its start: 40 days back is safely before.
    let mut start = day
        .checked_sub_days(Days::new(40))
        .unwrap_or(NaiveDate::MIN);
    while month_due_on(start) < day {
        match start.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_contracts_worked_examples() {
        // Collected 2026-01-31: 28 February is a Saturday, so Monday 2 March.
        assert_eq!(due_on(d("2026-01-31"), None), d("2026-03-02"));
        // 2026-07-20: 20 August is a public holiday, so the 21st.
        assert_eq!(due_on(d("2026-07-20"), None), d("2026-08-21"));
        // 2026-11-24, disclosed 2026-12-03: the disclosure's day.
        let disclosed = at("2026-12-03T09:00:00Z");
        assert_eq!(due_on(d("2026-11-24"), Some(disclosed)), d("2026-12-03"));
    }

    #[test]
    fn the_disclosure_counts_by_its_tallinn_date_and_only_when_earlier() {
        // 22:30 UTC on 2 December is 00:30 on the 3rd in Tallinn.
        let late = at("2026-12-02T22:30:00Z");
        assert_eq!(due_on(d("2026-11-24"), Some(late)), d("2026-12-03"));
        // A disclosure after the month's date leaves it as it is.
        let after = at("2027-02-01T10:00:00Z");
        // (24-26 December are holidays, then the weekend: Monday the 28th.)
        assert_eq!(due_on(d("2026-11-24"), Some(after)), d("2026-12-28"));
    }

    #[test]
    fn counted_from_the_collection_else_the_creation() {
        let created = at("2026-11-30T10:00:00Z");
        assert_eq!(counts_from(None, created), d("2026-11-30"));
        let collected = at("2026-10-31T23:30:00Z");
        assert_eq!(counts_from(Some(collected), created), d("2026-11-01"));
    }

    #[test]
    fn states() {
        let due = d("2026-12-03");
        assert_eq!(state(false, false, due, due), Art14State::Due);
        assert_eq!(
            state(false, false, due, d("2026-12-04")),
            Art14State::Overdue
        );
        assert_eq!(
            state(true, true, due, d("2027-01-01")),
            Art14State::Informed
        );
        assert_eq!(state(false, true, due, d("2027-01-01")), Art14State::Exempt);
    }

    #[test]
    fn the_bound_agrees_with_the_rule_on_every_day_of_three_years() {
        let mut day = d("2025-01-01");
        while day < d("2028-01-01") {
            let bound = month_due_before_bound(day);
            for offset in 0..80 {
                let start = day - Days::new(offset);
                assert_eq!(
                    month_due_on(start) < day,
                    start < bound,
                    "{start} against {day}"
                );
            }
            day = day.succ_opt().unwrap();
        }
    }
}
