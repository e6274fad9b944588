//! A batch recorded: the steps in their order (see the parent's notes on why).

use super::change::{ChangeOutcome, PendingChange};
use super::known::Known;
use super::stamp::{settle, stamp_events, Stamped};
use super::write::{lock_flags, update_flags, write_events};
use crate::access_log::Action;
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use diesel::PgConnection;

/// Records every change that names an existing subject and purpose, in the caller's transaction.
pub fn record_changes(
    conn: &mut PgConnection,
    changes: &[PendingChange],
) -> ApiResult<Vec<ChangeOutcome>> {
    let known = Known::load(conn, changes)?;
    lock_flags(conn, changes, &known)?;
    let mut stamped = stamp_events(changes, &known)?;
    let flags = update_flags(conn, &stamped)?;
    settle(&mut stamped, &flags)?;
    write_events(conn, &stamped, &known)?;
    mark_active(conn, changes, &stamped)?;
    Ok(stamped.outcomes)
}

/// A consent change is activity about the person (retention counts from it): one statement for
/// the whole batch, after the flags' locks, taking the subjects' row locks in id order. The
/// withdrawals an erasure makes are not: the subject is being erased (and a retention run saves
/// the statement on every erasure).
fn mark_active(
    conn: &mut PgConnection,
    changes: &[PendingChange],
    stamped: &Stamped<'_>,
) -> ApiResult<()> {
    let erasing = Action::SubjectErase.as_str();
    if changes.iter().all(|c| c.entry.action == erasing) {
        return Ok(());
    }
    let Some(at) = stamped.stamps.values().map(|s| s.at).max() else {
        return Ok(());
    };
    let mut ids: Vec<SubjectId> = stamped.stamps.keys().map(|(s, _)| *s).collect();
    ids.sort_unstable();
    ids.dedup();
    crate::subjects::model::touch_many(conn, &ids, at)?;
    Ok(())
}
