//! Counting Estonian working days (v2's holiday list, `deadline::is_working_day`): when a
//! recipient's outcome is due, how many working days it took, and the nearest-rank percentiles
//! of the published figures. Pure: no database, no clock.

use super::deadline::is_working_day;
use chrono::NaiveDate;

/// The `n`-th working day after `date` (not counting `date` itself); `None` past the calendar.
pub fn nth_working_day_after(date: NaiveDate, n: u32) -> Option<NaiveDate> {
    let mut day = date;
    let mut left = n;
    while left > 0 {
        day = day.succ_opt()?;
        if is_working_day(day) {
            left -= 1;
        }
    }
    Some(day)
}

/// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut count = 0;
    let mut day = from;
    while day < to {
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
        if is_working_day(day) {
            count += 1;
        }
    }
    count
}

/// The nearest-rank percentile `p` (0 < p <= 1) of sorted values with their counts: the value
/// at rank ⌈p·n⌉. `None` when there are none.
pub fn nearest_rank(sorted: &[(i64, i64)], p: f64) -> Option<i64> {
    let total: i64 = sorted.iter().map(|(_, count)| count).sum();
    if total == 0 {
        return None;
    }
    // Integer arithmetic for the usual percentiles, so that 0.5 * 4 is exactly rank 2.
    let rank = ((p * 1000.0).round() as i64 * total + 999) / 1000;
    let rank = rank.clamp(1, total);
    let mut seen = 0;
    for (value, count) in sorted {
        seen += count;
        if seen >= rank {
            return Some(*value);
        }
    }
    sorted.last().map(|(value, _)| *value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_contracts_outcome_due_dates_hold() {
        // Monday 2026-12-21: Christmas, the weekend and New Year are skipped.
        assert_eq!(
            nth_working_day_after(date("2026-12-21"), 10),
            Some(date("2027-01-07"))
        );
        // Good Friday 2026-04-03 is skipped.
        assert_eq!(
            nth_working_day_after(date("2026-04-01"), 10),
            Some(date("2026-04-16"))
        );
        // Queued on a Saturday; Victory Day and Midsummer Day are skipped.
        assert_eq!(
            nth_working_day_after(date("2026-06-20"), 10),
            Some(date("2026-07-07"))
        );
        assert_eq!(
            nth_working_day_after(date("2026-12-21"), 1),
            Some(date("2026-12-22"))
        );
    }

    #[test]
    fn working_days_count_from_the_day_after() {
        assert_eq!(
            working_days_between(date("2026-12-21"), date("2026-12-28")),
            3
        );
        assert_eq!(
            working_days_between(date("2026-12-21"), date("2026-12-21")),
            0
        );
        assert_eq!(
            working_days_between(date("2026-12-21"), date("2026-12-01")),
            0
        );
        assert_eq!(
            working_days_between(date("2026-12-21"), date("2027-01-07")),
            10
        );
    }

    #[test]
    fn nearest_rank_follows_the_contracts_example() {
        let values = [(3, 1), (10, 1), (30, 1), (31, 1)];
        assert_eq!(nearest_rank(&values, 0.5), Some(10));
        assert_eq!(nearest_rank(&values, 0.9), Some(31));
        assert_eq!(nearest_rank(&[(7, 1)], 0.5), Some(7));
        assert_eq!(nearest_rank(&[], 0.5), None);
        // Counts weigh: 1, 1, 1, 5, 5 → median 1, p90 5.
        assert_eq!(nearest_rank(&[(1, 3), (5, 2)], 0.5), Some(1));
        assert_eq!(nearest_rank(&[(1, 3), (5, 2)], 0.9), Some(5));
    }
}
