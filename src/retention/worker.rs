//! The background thread that carries out retention runs: woken when a run is requested, once
//! a day at `RETENTION_RUN_AT` (Europe/Tallinn), at start when the last run is over a day old,
//! and every minute to take over a run whose instance is gone. It works on a connection of its
//! own (not the request pool), so reads keep their connections while it erases.

use super::run::{self, ACTOR};
use crate::auth::Actor;
use crate::background::{Next, Task};
use crate::db::singleton::{self, Singleton};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Tallinn;
use diesel::prelude::*;
use std::sync::atomic::AtomicBool;

pub use crate::config::RetentionSchedule as Schedule;

/// Connections that erase at once during a run (each subject still in its own transaction):
/// one erasure is mostly round trips, so a few in flight keep the database busy.
const ERASERS: usize = 3;

/// How often the thread looks for a run left behind by an instance that is gone.
const TAKE_OVER_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

/// The first moment after `after` at which Tallinn's clocks show `at`. On the night the clocks
/// go forward (03:00 becomes 04:00) a time in the skipped hour runs an hour later by the clock;
/// when they go back, a time shown twice means its first showing.
pub fn next_run_at(after: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let mut day = after.with_timezone(&Tallinn).date_naive();
    loop {
        let local = day.and_time(at);
        let moment = Tallinn.from_local_datetime(&local).earliest().or_else(|| {
            Tallinn
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        });
        if let Some(moment) = moment.map(|m| m.with_timezone(&Utc)) {
            if moment > after {
                return moment;
            }
        }
        match day.succ_opt() {
            Some(next) => day = next,
            None => return after + Duration::days(1),
        }
    }
}

enum Wake {
    /// A run was requested (it is recorded already), or the periodic look for one to take over.
    Requested,
    /// Start a run unless one started at or after this moment.
    Scheduled(DateTime<Utc>),
}

/// The retention job: the background driver activates it when a run is requested
/// ([`NAME`]), at the daily time and at least every `TAKE_OVER_PERIOD`.
pub struct Runner {
    url: String,
    schedule: Schedule,
    /// The next daily run.
    next: DateTime<Utc>,
    /// The first activation: continue a run left behind, and run now when the last one is over
    /// a day old.
    started: bool,
}

/// The job's name, by which a requested run wakes it.
pub const NAME: &str = "retention";

impl Runner {
    /// The job; `url` is the database, connected to for each round.
    pub fn new(url: String, schedule: Schedule) -> Self {
        Self {
            url,
            schedule,
            next: next_run_at(Utc::now(), schedule.at),
            started: false,
        }
    }
}

impl Task for Runner {
    fn name(&self) -> &'static str {
        NAME
    }

    fn period(&self) -> std::time::Duration {
        TAKE_OVER_PERIOD
    }

    fn activate(&mut self, stop: &AtomicBool) -> ApiResult<Next> {
        let now = Utc::now();
        let reason = if !self.started {
            self.started = true;
            if self.schedule.enabled {
                Wake::Scheduled(now - Duration::days(1))
            } else {
                Wake::Requested
            }
        } else if self.schedule.enabled && now >= self.next {
            let due = self.next;
            self.next = next_run_at(now, self.schedule.at);
            Wake::Scheduled(due)
        } else {
            Wake::Requested
        };
        let done = round(&self.url, reason, stop);
        let until_next = (self.next - Utc::now()).to_std().unwrap_or_default();
        let wait = if self.schedule.enabled {
            until_next.min(TAKE_OVER_PERIOD)
        } else {
            TAKE_OVER_PERIOD
        };
        done.map(|()| Next::After(wait))
    }
}

/// One look: starts a scheduled run if due, then carries out the run under way, if this
/// instance can take it.
fn round(url: &str, reason: Wake, stop: &AtomicBool) -> ApiResult<()> {
    let mut conn = crate::db::connect(url)?;
    // A crash may lose the last erasures' commits; the next run does them again (each is whole
    // or absent), and nothing later in the WAL can be durable without them.
    diesel::sql_query("SET synchronous_commit = off").execute(&mut conn)?;
    if let Wake::Scheduled(since) = reason {
        start_scheduled(&mut conn, since)?;
    }
    // Nothing to do unless a run is under way: helpers are connected only then.
    if crate::retention::model::running(&mut conn)?.is_none() {
        return Ok(());
    }
    let mut helpers = Vec::with_capacity(ERASERS - 1);
    for _ in 1..ERASERS {
        let mut helper = crate::db::connect(url)?;
        diesel::sql_query("SET synchronous_commit = off").execute(&mut helper)?;
        helpers.push(helper);
    }
    if let Some(done) = run::carry_out(&mut conn, &mut helpers, stop, None)? {
        log::info!(
            "retention run {} {}: {} erased, {} on hold",
            done.id,
            done.status,
            done.erased,
            done.skipped_on_hold
        );
    }
    Ok(())
}

/// Records a run by the service itself unless one started at or after `since` (another instance
/// may have started today's already). Under the run's lock, so replicas waking together start one.
fn start_scheduled(conn: &mut PgConnection, since: DateTime<Utc>) -> ApiResult<()> {
    if !singleton::try_hold_session(conn, Singleton::RetentionRun)? {
        return Ok(());
    }
    let started = (|| {
        if run::last_started(conn)?.is_some_and(|last| last >= since) {
            return Ok(());
        }
        conn.transaction(|conn| {
            let actor = Actor::new(ACTOR, &[], None);
            let (row, created) = run::start(conn, ACTOR)?;
            if created {
                let request_id = run::request_id(row.id);
                crate::access_log::record(conn, &[run::start_entry(&actor, &request_id, None)])?;
            }
            Ok::<_, ApiError>(())
        })
    })();
    let _ = singleton::release(conn, Singleton::RetentionRun);
    started
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    #[test]
    fn runs_are_at_tallinn_time_through_both_clock_changes() {
        // Winter: 03:00 in Tallinn is 01:00 UTC; summer: 00:00 UTC.
        assert_eq!(
            next_run_at(at("2026-01-10T12:00:00Z"), time("03:00")),
            at("2026-01-11T01:00:00Z")
        );
        assert_eq!(
            next_run_at(at("2026-07-10T12:00:00Z"), time("03:00")),
            at("2026-07-11T00:00:00Z")
        );
        // 29 March 2026: 03:00 does not exist (03:00 EET becomes 04:00 EEST); the run starts
        // when the gap ends, at 04:00 EEST (01:00 UTC).
        assert_eq!(
            next_run_at(at("2026-03-28T12:00:00Z"), time("03:00")),
            at("2026-03-29T01:00:00Z")
        );
        // 25 October 2026: 03:30 is shown twice; the first is at +03:00.
        assert_eq!(
            next_run_at(at("2026-10-24T12:00:00Z"), time("03:30")),
            at("2026-10-25T00:30:00Z")
        );
        // Just after today's time: tomorrow's.
        assert_eq!(
            next_run_at(at("2026-01-11T01:00:00Z"), time("03:00")),
            at("2026-01-12T01:00:00Z")
        );
    }
}
