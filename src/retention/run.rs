//! One retention run, carried out on a connection of its own: every subject past its keep date
//! on the run's day is erased as `system:retention`, each in its own transaction (so a crash
//! leaves each one erased or untouched), or counted when an active hold covers it. How far the
//! run got commits with each erasure, so a run cut short is continued where it stopped.

use super::model::{self, Cutoffs, DueRow, RunRow};
use crate::access_log::{Action, NewEntry, Outcome};
use crate::auth::Actor;
use crate::db::singleton::{self, Singleton};
use crate::domain::deadline::tallinn_date;
use crate::domain::ids::RetentionRunId;
use crate::domain::retention::RunStatus;
use crate::error::{ApiError, ApiResult};
use crate::subjects::erasure::EraseCommand;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

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
/// subjects. `Ok(None)` when another instance holds the lock or nothing is under way.
pub fn carry_out(
    conn: &mut PgConnection,
    stop: &AtomicBool,
    budget: Option<usize>,
) -> ApiResult<Option<RunRow>> {
    if !singleton::try_hold_session(conn, Singleton::RetentionRun)? {
        return Ok(None);
    }
    let result = match model::running(conn) {
        Ok(Some(run)) => work(conn, &run, stop, budget).map(Some),
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

/// The run's loop: batches of subjects past their keep date after the run's position, the rules
/// read again for each batch.
fn work(
    conn: &mut PgConnection,
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
    let mut done = 0usize;
    loop {
        let cutoffs = Cutoffs::on(model::all_rules(conn)?, run.as_of);
        let batch = model::past_keep_date(conn, &cutoffs, after, BATCH, true)?;
        let Some(last) = batch.last().map(DueRow::key) else {
            model::end(conn, run.id, RunStatus::Finished.as_str())?;
            return model::find_run(conn, run.id);
        };
        let mut skipped = 0i64;
        for row in &batch {
            if stop.load(Ordering::Acquire) || budget.is_some_and(|b| done >= b) {
                flush(conn, run.id, skipped, after)?;
                return model::find_run(conn, run.id);
            }
            done += 1;
            let key = row.key();
            match erase_one(conn, run.id, &cutoffs, row, skipped, &request_id)? {
                Step::Erased | Step::NotDue => skipped = 0,
                Step::OnHold => skipped += 1,
            }
            after = Some(key);
        }
        flush(conn, run.id, skipped, Some(last))?;
        after = Some(last);
    }
}

/// Commits counts not yet committed with an erasure.
fn flush(
    conn: &mut PgConnection,
    run: RetentionRunId,
    skipped: i64,
    after: Option<model::DueKey>,
) -> ApiResult<()> {
    match after {
        Some(key) if skipped > 0 => model::advance(conn, run, 0, skipped, key),
        _ => Ok(()),
    }
}

/// Erases one subject in its own transaction, if it is still due and no hold covers it, with
/// the run's progress (and the holds counted since the last erasure).
fn erase_one(
    conn: &mut PgConnection,
    run: RetentionRunId,
    cutoffs: &Cutoffs,
    row: &DueRow,
    skipped_before: i64,
    request_id: &str,
) -> ApiResult<Step> {
    if row.on_hold {
        return Ok(Step::OnHold);
    }
    let (Some(rule), Some(before)) = (cutoffs.rule_of(&row.kind), cutoffs.before_of(&row.kind))
    else {
        return Ok(Step::NotDue);
    };
    let outcome = conn.transaction(|conn| {
        if !model::lock_if_still_due(conn, row.subject_id, rule, before)? {
            return Ok(Step::NotDue);
        }
        let reason = format!(
            "retention rule {}: kept {} months after the last activity",
            rule.id, rule.keep_months
        );
        let command = EraseCommand::by_system(row.subject_id, ACTOR, request_id, &reason);
        crate::subjects::erasure::erase(conn, &command)?;
        model::advance(conn, run, 1, skipped_before, row.key())?;
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
