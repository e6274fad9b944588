//! Legal deadlines by Regulation (EEC, Euratom) No 1182/71: a period of months ends on the same
//! day number of the last month (or that month's last day when it has none), and a period that
//! would end on a Saturday, a Sunday or a public holiday ends on the next working day. Dates are
//! Estonian: a moment becomes a date in Europe/Tallinn, and the holidays are Estonia's. Pure: no
//! database, no clock.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::Tallinn;

/// How far past the plain month arithmetic a deadline can move: 24 December on a Wednesday
/// moves over 25 and 26 December and the weekend to Monday the 29th.
pub const MAX_SHIFT_DAYS: i64 = 5;

/// The Europe/Tallinn date of a moment.
pub fn tallinn_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Tallinn).date_naive()
}

/// `months` calendar months after `date`: the same day number, or the month's last day when it
/// has none (31 January + 1 month = 28 or 29 February). `None` past the calendar's end.
pub fn plus_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(months))
}

/// The deadline of a period of `months` months that starts on `received_on`: the plain month
/// arithmetic, moved to the next working day when it falls on a day off.
pub fn due_on(received_on: NaiveDate, months: u32) -> Option<NaiveDate> {
    plus_months(received_on, months).map(next_working_day)
}

/// `date` itself when it is a working day, else the first working day after it.
pub fn next_working_day(date: NaiveDate) -> NaiveDate {
    let mut day = date;
    while !is_working_day(day) {
        match day.succ_opt() {
            Some(next) => day = next,
            None => return day,
        }
    }
    day
}

/// Neither a Saturday, a Sunday nor an Estonian public holiday.
pub fn is_working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_public_holiday(date)
}

/// Estonia's public holidays (Public Holidays and Days of National Importance Act, § 2):
/// New Year's Day, Independence Day (24 Feb), Good Friday, Easter Sunday, Spring Day (1 May),
/// Whit Sunday, Victory Day and Midsummer Day (23 and 24 Jun), Day of Restoration of
/// Independence (20 Aug), Christmas Eve, Christmas Day and Boxing Day (24 to 26 Dec).
pub fn is_public_holiday(date: NaiveDate) -> bool {
    let fixed = matches!(
        (date.month(), date.day()),
        (1, 1) | (2, 24) | (5, 1) | (6, 23) | (6, 24) | (8, 20) | (12, 24) | (12, 25) | (12, 26)
    );
    fixed
        || easter_sunday(date.year()).is_some_and(|easter| {
            let offset = (date - easter).num_days();
            // Good Friday, Easter Sunday, Whit Sunday (Pentecost).
            matches!(offset, -2 | 0 | 49)
        })
}

/// Western (Gregorian) Easter Sunday of `year`, by the anonymous Gregorian computus
/// (Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_contracts_examples_hold() {
        assert_eq!(due_on(date("2026-01-31"), 1), Some(date("2026-03-02")));
        assert_eq!(due_on(date("2026-11-24"), 1), Some(date("2026-12-28")));
        assert_eq!(due_on(date("2026-03-03"), 1), Some(date("2026-04-06")));
        let late_evening: DateTime<Utc> = "2026-06-09T21:30:00Z".parse().unwrap();
        assert_eq!(tallinn_date(late_evening), date("2026-06-10"));
        assert_eq!(
            due_on(tallinn_date(late_evening), 1),
            Some(date("2026-07-10"))
        );
        // 24 December 2025 is a Wednesday: five days later.
        assert_eq!(due_on(date("2025-11-24"), 1), Some(date("2025-12-29")));
    }

    #[test]
    fn winter_time_and_summer_time_both_count() {
        let winter: DateTime<Utc> = "2026-01-15T22:30:00Z".parse().unwrap();
        assert_eq!(tallinn_date(winter), date("2026-01-16"));
        let before_midnight: DateTime<Utc> = "2026-01-15T21:59:59Z".parse().unwrap();
        assert_eq!(tallinn_date(before_midnight), date("2026-01-15"));
        let summer: DateTime<Utc> = "2026-07-15T20:59:59Z".parse().unwrap();
        assert_eq!(tallinn_date(summer), date("2026-07-15"));
        let summer_midnight: DateTime<Utc> = "2026-07-15T21:00:00Z".parse().unwrap();
        assert_eq!(tallinn_date(summer_midnight), date("2026-07-16"));
    }

    #[test]
    fn months_keep_the_day_number_or_take_the_months_last_day() {
        assert_eq!(plus_months(date("2025-01-31"), 1), Some(date("2025-02-28")));
        assert_eq!(plus_months(date("2024-01-31"), 1), Some(date("2024-02-29")));
        assert_eq!(plus_months(date("2026-05-31"), 3), Some(date("2026-08-31")));
        assert_eq!(plus_months(date("2026-11-30"), 3), Some(date("2027-02-28")));
        assert_eq!(
            plus_months(date("2025-01-31"), 12),
            Some(date("2026-01-31"))
        );
    }

    #[test]
    fn easter_and_its_holidays_are_computed_per_year() {
        for (year, easter) in [
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter_sunday(year), Some(date(easter)), "{year}");
        }
        assert!(is_public_holiday(date("2026-04-03")), "Good Friday");
        assert!(is_public_holiday(date("2026-05-24")), "Whit Sunday");
        assert!(
            !is_public_holiday(date("2026-04-06")),
            "Easter Monday is a working day"
        );
        assert!(
            !is_public_holiday(date("2026-05-25")),
            "Whit Monday is a working day"
        );
        for fixed in [
            "2026-01-01",
            "2026-02-24",
            "2026-05-01",
            "2026-06-23",
            "2026-06-24",
            "2026-08-20",
            "2026-12-24",
            "2026-12-25",
            "2026-12-26",
        ] {
            assert!(is_public_holiday(date(fixed)), "{fixed}");
        }
    }

    proptest! {
        #[test]
        fn every_deadline_is_a_working_day_at_most_five_days_past_the_months(
            offset in 0i64..(366 * 12), months in prop::sample::select(vec![1u32, 3])
        ) {
            let received = date("2020-01-01") + chrono::Duration::days(offset);
            let plain = plus_months(received, months).unwrap();
            let due = due_on(received, months).unwrap();
            prop_assert!(is_working_day(due));
            prop_assert!(due >= plain);
            prop_assert!((due - plain).num_days() <= MAX_SHIFT_DAYS);
            // Nothing between the plain date and the deadline is a working day.
            let mut day = plain;
            while day < due {
                prop_assert!(!is_working_day(day));
                day = day.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn every_day_of_twelve_years_has_a_deadline_within_bounds() {
        let mut day = date("2020-01-01");
        let mut longest = 0;
        while day < date("2032-01-01") {
            for months in [1, 3] {
                let plain = plus_months(day, months).unwrap();
                let due = due_on(day, months).unwrap();
                assert!(is_working_day(due), "{day}");
                let shift = (due - plain).num_days();
                assert!((0..=MAX_SHIFT_DAYS).contains(&shift), "{day}: {shift}");
                longest = longest.max(shift);
            }
            day = day.succ_opt().unwrap();
        }
        assert_eq!(longest, MAX_SHIFT_DAYS, "the bound is reached");
    }
}
