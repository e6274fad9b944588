//! One retention run, carried out on a connection of its own: every subject past its keep date
//! on the run's day is erased as `system:retention`, a set of subjects to a transaction
//! (`set`, each subject whole or untouched, so a crash leaves each one erased or untouched), or
//! counted when an active hold covers it. How far the run got commits with each set, so a run
//! cut short is continued where it stopped.

use super::model::{self, Cutoffs, DueRow, RunRow};
use super::set;
use crate::access_log::{Action, NewEntry, Outcome};
use crate::auth::Actor;
use crate::db::singleton::{self, Singleton};
use crate::domain::deadline::tallinn_date;
use crate::domain::ids::RetentionRunId;
use crate::domain::retention::RunStatus;
use crate::error::{ApiError, ApiResult};
use crate::rights::erasure::EraseCommand;
use crate::rights::erasure_set::SetBy;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The actor of everything a run does.
pub const ACTOR: &str = "system:retention";

/// Subjects fetched per query.
pub const BATCH: i64 = 500;

/// The request id of a run's entries and erasures.
pub fn request_id(run: RetentionRunId) -> String {
    format!("retention-run-{run}")
}

/// The entry of a run's start, by `actor` (the caller, or the service for a scheduled run).
pub fn start_entry(actor: &Actor, request_id: &str, purpose: Option<&str>) -> NewEntry {
    NewEntry::for_actor(
        actor,
        request_id,
        purpose,
        Action::RetentionRun,
        None,
        Outcome::Allowed,
    )
}

/// The run under way, or a new one for today (Europe/Tallinn), in the caller's transaction;
/// `true` when it was created now. Two instances starting at once end with one run (a unique
/// index allows one `running` row).
pub fn start(conn: &mut PgConnection, started_by: &str) -> ApiResult<(RunRow, bool)> {
    if let Some(run) = model::running(conn)? {
        return Ok((run, false));
    }
    let now = Utc::now().trunc_subsecs(6);
    let row = RunRow {
        id: RetentionRunId::new(),
        status: RunStatus::Running.as_str().to_owned(),
        as_of: tallinn_date(now),
        started_by: started_by.to_owned(),
        started_at: now,
        finished_at: None,
        erased: 0,
        skipped_on_hold: 0,
        after_activity_at: None,
        after_subject_id: None,
    };
    if model::insert_run(conn, &row)? == 1 {
        return Ok((row, true));
    }
    model::running(conn)?
        .map(|run| (run, false))
        .ok_or_else(|| ApiError::internal("a retention run could not be recorded"))
}

/// What happened to one subject of a batch.
enum Step {
    Erased,
    OnHold,
    /// Active since, erased meanwhile, or its rule changed: left for the next look.
    NotDue,
}

/// Carries out the run under way, if any, holding the run's lock on this connection; stops
/// early (leaving the run `running`, to be continued) when `stop` is set or after `budget`
/// subjects. `helpers` are further connections that erase alongside this one (each subject still
/// in a transaction of its own). `Ok(None)` when another instance holds the lock or nothing is
/// under way.
pub fn carry_out(
    conn: &mut PgConnection,
    helpers: &mut [PgConnection],
    stop: &AtomicBool,
    budget: Option<usize>,
) -> ApiResult<Option<RunRow>> {
    if !singleton::try_hold_session(conn, Singleton::RetentionRun)? {
        return Ok(None);
    }
    let result = match model::running(conn) {
        Ok(Some(run)) => work(conn, helpers, &run, stop, budget).map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e.into()),
    };
    let result = match result {
        Err(e) if !matches!(e, ApiError::Unavailable) => {
            log::warn!("a retention run failed: {e}");
            if let Ok(Some(run)) = model::running(conn) {
                let _ = model::end(conn, run.id, RunStatus::Failed.as_str());
            }
            Err(e)
        }
        other => other,
    };
    let _ = singleton::release(conn, Singleton::RetentionRun);
    result
}

/// What a batch's erasers share: the run, its rules, when to stop, and how many subjects were
/// taken on so far.
struct Shared<'a> {
    run: RetentionRunId,
    cutoffs: &'a Cutoffs,
    request_id: &'a str,
    stop: &'a AtomicBool,
    budget: Option<usize>,
    taken: AtomicUsize,
}

impl Shared<'_> {
    /// Takes on one more subject, unless the run is to stop.
    fn take(&self) -> bool {
        if self.stop.load(Ordering::Acquire) {
            return false;
        }
        let taken = self.taken.fetch_add(1, Ordering::AcqRel);
        self.budget.is_none_or(|b| taken < b)
    }
}

/// The run's loop: batches of subjects past their keep date after the run's position, the rules
/// read again for each batch, the batch's subjects shared among the connections. Erasures count
/// as they commit; the holds counted and the position commit once the whole batch is done, so a
/// run cut short mid-batch looks at that batch again (its erased subjects are no longer there,
/// its held ones are counted then).
fn work(
    conn: &mut PgConnection,
    helpers: &mut [PgConnection],
    run: &RunRow,
    stop: &AtomicBool,
    budget: Option<usize>,
) -> ApiResult<RunRow> {
    let request_id = request_id(run.id);
    let mut after =
        run.after_activity_at
            .zip(run.after_subject_id)
            .map(|(last_activity_at, subject_id)| model::DueKey {
                last_activity_at,
                subject_id,
            });
    let taken = AtomicUsize::new(0);
    loop {
        let cutoffs = Cutoffs::on(model::all_rules(conn)?, run.as_of);
        let batch = model::past_keep_date(conn, &cutoffs, after, BATCH, true)?;
        let Some(last) = batch.last().map(DueRow::key) else {
            // Receipts whose set committed just before a crash, signed before the run ends.
            crate::receipts::deferred::sign_left_unsigned(conn, &request_id)?;
            model::end(conn, run.id, RunStatus::Finished.as_str())?;
            return model::find_run(conn, run.id);
        };
        let shared = Shared {
            run: run.id,
            cutoffs: &cutoffs,
            request_id: &request_id,
            stop,
            budget,
            taken: AtomicUsize::new(taken.load(Ordering::Acquire)),
        };
        let lanes = helpers.len() + 1;
        let outcome: ApiResult<(i64, bool)> = std::thread::scope(|scope| {
            let shared = &shared;
            let batch = &batch;
            let others: Vec<_> = helpers
                .iter_mut()
                .enumerate()
                .map(|(i, helper)| {
                    scope.spawn(move || erase_lane(helper, shared, batch, i + 1, lanes))
                })
                .collect();
            let mut total = erase_lane(conn, shared, batch, 0, lanes);
            for other in others {
                let lane = other
                    .join()
                    .unwrap_or_else(|_| Err(ApiError::internal("a retention eraser panicked")));
                total = match (total, lane) {
                    (Ok((a, x)), Ok((b, y))) => Ok((a + b, x && y)),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                };
            }
            total
        });
        let (skipped, whole) = outcome?;
        taken.store(shared.taken.load(Ordering::Acquire), Ordering::Release);
        if !whole {
            return model::find_run(conn, run.id);
        }
        model::advance(conn, run.id, 0, skipped, last)?;
        after = Some(last);
    }
}

/// Erases the subjects of one lane of a batch (every `lanes`-th from `lane`), `set::SET` to a
/// transaction; the holds it counted, and whether it got through its share.
fn erase_lane(
    conn: &mut PgConnection,
    shared: &Shared<'_>,
    batch: &[DueRow],
    lane: usize,
    lanes: usize,
) -> ApiResult<(i64, bool)> {
    let mut skipped = 0i64;
    let mut whole = true;
    let mut taken = Vec::new();
    for row in batch.iter().skip(lane).step_by(lanes) {
        if !shared.take() {
            whole = false;
            break;
        }
        if row.on_hold {
            skipped += 1;
        } else {
            taken.push(row);
        }
    }
    let one_by_one = |conn: &mut PgConnection, row: &DueRow| {
        Ok(matches!(erase_one(conn, shared, row)?, Step::OnHold))
    };
    let of = set::SetOf {
        run: shared.run,
        by: SetBy {
            actor: ACTOR,
            request_id: shared.request_id,
        },
        cutoffs: shared.cutoffs,
    };
    for rows in taken.chunks(set::SET) {
        skipped += set::erase(conn, &of, rows, &one_by_one)?;
    }
    Ok((skipped, whole))
}

/// Erases one subject in its own transaction, if it is still due and no hold covers it, and
/// counts it in the run in that transaction: what a set that failed falls back to.
fn erase_one(conn: &mut PgConnection, shared: &Shared<'_>, row: &DueRow) -> ApiResult<Step> {
    let cutoffs = shared.cutoffs;
    let (Some(rule), Some(before)) = (cutoffs.rule_of(&row.kind), cutoffs.before_of(&row.kind))
    else {
        return Ok(Step::NotDue);
    };
    let outcome = conn.transaction(|conn| {
        if !model::lock_if_still_due(conn, row.subject_id, rule, before)? {
            return Ok(Step::NotDue);
        }
        let reason = set::reason(rule);
        let command = EraseCommand::by_system(row.subject_id, ACTOR, shared.request_id, &reason);
        // The lock above is the erasure's own: it found the subject there and not erased.
        crate::rights::erasure::erase_locked(conn, &command)?;
        model::count_erased(conn, shared.run, 1)?;
        Ok::<_, ApiError>(Step::Erased)
    });
    match outcome {
        // A hold placed since the batch was read.
        Err(ApiError::OnHold(_)) => Ok(Step::OnHold),
        // Erased or gone meanwhile.
        Err(ApiError::Erased(_) | ApiError::Client { .. }) => Ok(Step::NotDue),
        other => other,
    }
}

/// When the last run started, if one ever did.
pub fn last_started(conn: &mut PgConnection) -> ApiResult<Option<DateTime<Utc>>> {
    Ok(model::last_started(conn)?)
}
