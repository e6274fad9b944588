//! When a subject's data may no longer be kept (storage limitation, GDPR Art. 5(1)(e)): the keep
//! date is the Europe/Tallinn date of its last activity plus a rule's calendar months, and it is
//! due for erasure on every day after that. Pure: no database, no clock. The due list and the
//! retention run ask the database for `last_activity_at < due_before(as_of, months)`, which this
//! module proves equal to the date rule, so the list is one indexed range per rule.

use super::deadline::{plus_months, tallinn_date};
use super::stored::stored_enum;
use chrono::{DateTime, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Tallinn;

stored_enum! {
    /// Where a retention run stands.
    RunStatus {
        /// Erasing.
        Running = "running",
        /// Done: every subject due on its day was erased or counted as on hold.
        Finished = "finished",
        /// Stopped by an error; the next run continues the work.
        Failed = "failed",
    }
}

/// The last day a subject whose last activity was at `last_activity` is kept: the Tallinn date
/// plus `months` calendar months (the same day number, or the month's last day). `None` past the
/// calendar's end.
pub fn kept_through(last_activity: DateTime<Utc>, months: u32) -> Option<NaiveDate> {
    plus_months(tallinn_date(last_activity), months)
}

/// The first day the subject is due: the day after its keep date.
pub fn due_on(last_activity: DateTime<Utc>, months: u32) -> Option<NaiveDate> {
    kept_through(last_activity, months).and_then(|d| d.succ_opt())
}

/// Whether the subject is due on `as_of` (by the date rule itself).
pub fn is_due(last_activity: DateTime<Utc>, months: u32, as_of: NaiveDate) -> bool {
    kept_through(last_activity, months).is_some_and(|kept| kept < as_of)
}

/// The instant before which a last activity makes a subject due on `as_of`: for every moment
/// `t`, `t < due_before(as_of, months)` exactly when `is_due(t, months, as_of)`.
///
/// Why it exists: `plus_months` never decreases as its date grows, so the due dates form a
/// down-set `{d : d <= latest}`, where `latest` is the last date whose keep date is before
/// `as_of`; and `tallinn_date` never decreases in time, so the due moments are those before the
/// Tallinn midnight that starts `latest + 1`. `latest` is found from `as_of - 1 day - months`
/// (whose keep date is never later than `as_of - 1`), moving on while the next day still keeps
/// no later: at most three days, since month ends differ by at most three. `None` when no moment
/// the calendar can name is due (then nothing is); `Some(DateTime::MAX_UTC)` is never returned.
pub fn due_before(as_of: NaiveDate, months: u32) -> Option<DateTime<Utc>> {
    let last_kept = as_of.pred_opt()?;
    let mut latest = last_kept.checked_sub_months(Months::new(months))?;
    while let Some(next) = latest.succ_opt() {
        match plus_months(next, months) {
            Some(kept) if kept <= last_kept => latest = next,
            _ => break,
        }
    }
    tallinn_midnight(latest.succ_opt()?)
}

/// The moment a Tallinn day begins. Midnight always exists there (the clocks change at 03:00
/// and 04:00), but should a day ever start with a gap, its first moment is taken.
pub fn tallinn_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    let local = day.and_hms_opt(0, 0, 0)?;
    Tallinn
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            (1..=3)
                .filter_map(|h| {
                    Tallinn
                        .from_local_datetime(&day.and_hms_opt(h, 0, 0)?)
                        .earliest()
                })
                .next()
        })
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn run_statuses_round_trip_and_others_are_refused() {
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::parse(status.as_str()), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert!(RunStatus::parse("done").is_err());
    }

    #[test]
    fn the_contracts_example_holds() {
        // 2025-01-31 in Tallinn (noon UTC is 14:00 there).
        let last = at("2025-01-31T12:00:00Z");
        assert_eq!(kept_through(last, 12), Some(date("2026-01-31")));
        assert_eq!(due_on(last, 12), Some(date("2026-02-01")));
        assert!(!is_due(last, 12, date("2026-01-31")));
        assert!(is_due(last, 12, date("2026-02-01")));
        let bound = due_before(date("2026-02-01"), 12).unwrap();
        assert!(last < bound);
        assert!(last >= due_before(date("2026-01-31"), 12).unwrap());
    }

    #[test]
    fn month_ends_take_the_months_last_day() {
        // 31 January plus one month is kept through 28 February; 28, 29, 30 and 31 January all
        // keep through 28 February (2025), so they all fall due on 1 March.
        for day in ["2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31"] {
            let last = at(&format!("{day}T10:00:00Z"));
            assert_eq!(kept_through(last, 1), Some(date("2025-02-28")), "{day}");
        }
        // So as of 1 March every one of them is due: the bound is the start of 1 February.
        assert_eq!(
            due_before(date("2025-03-01"), 1),
            Some(at("2025-01-31T22:00:00Z"))
        );
        // And as of 28 February only what was kept through the 27th: up to 27 January.
        assert_eq!(
            due_before(date("2025-02-28"), 1),
            Some(at("2025-01-27T22:00:00Z"))
        );
        // A leap year: 29 February 2024 plus 12 months is 28 February 2025.
        assert_eq!(
            kept_through(at("2024-02-29T10:00:00Z"), 12),
            Some(date("2025-02-28"))
        );
    }

    #[test]
    fn tallinn_dates_follow_summer_and_winter_time() {
        // 23:30 Tallinn summer time on 30 June is 20:30 UTC: still 30 June.
        let summer_evening = at("2025-06-30T20:30:00Z");
        assert_eq!(kept_through(summer_evening, 1), Some(date("2025-07-30")));
        // 00:30 on 1 July Tallinn time is 21:30 UTC on 30 June.
        let summer_night = at("2025-06-30T21:30:00Z");
        assert_eq!(kept_through(summer_night, 1), Some(date("2025-08-01")));
        // The last Sunday of March 2026 (29th): midnight of the 30th is still at +03:00.
        assert_eq!(
            due_before(date("2026-04-30"), 1),
            Some(at("2026-03-29T21:00:00Z"))
        );
        // A bound that falls on the night the clocks go forward starts at +02:00.
        assert_eq!(
            due_before(date("2026-04-29"), 1),
            Some(at("2026-03-28T22:00:00Z"))
        );
    }

    proptest! {
        #[test]
        fn the_instant_bound_equals_the_date_rule(
            seconds in 0i64..(86_400 * 366 * 14),
            months in prop_oneof![1u32..=40, 1u32..=1200],
            ahead in -40i64..(366 * 120),
        ) {
            let last = at("2020-01-01T00:00:00Z") + chrono::Duration::seconds(seconds);
            let as_of = tallinn_date(last) + chrono::Duration::days(ahead);
            let by_dates = is_due(last, months, as_of);
            let by_instant = due_before(as_of, months).is_some_and(|bound| last < bound);
            prop_assert_eq!(by_dates, by_instant, "{} {} {}", last, months, as_of);
        }

        #[test]
        fn moments_around_each_bound_are_split_by_it(
            day in 0i64..(366 * 14),
            months in 1u32..=1200,
        ) {
            let as_of = date("2021-01-01") + chrono::Duration::days(day);
            let bound = due_before(as_of, months).unwrap();
            let just_before = bound - chrono::Duration::microseconds(1);
            prop_assert!(is_due(just_before, months, as_of));
            prop_assert!(!is_due(bound, months, as_of));
        }
    }

    #[test]
    fn every_day_and_month_end_of_four_years_agrees() {
        let mut as_of = date("2024-01-01");
        while as_of < date("2028-01-01") {
            for months in [1, 2, 3, 6, 11, 12, 13, 24, 120] {
                let bound = due_before(as_of, months).unwrap();
                for offset in [-1, 0] {
                    let t = bound + chrono::Duration::microseconds(offset);
                    assert_eq!(is_due(t, months, as_of), offset < 0, "{as_of} {months}");
                }
            }
            as_of = as_of.succ_opt().unwrap();
        }
    }
}
