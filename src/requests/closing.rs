//! What closing a request as `fulfilled` waits for (contract v3, E): the recipients' outcomes
//! of the notices an erasure, rectification or restriction request caused (Art. 17(2), 19),
//! then the request's open tasks. Either is overridden by a close that says why.

use super::model::RequestRow;
use crate::db::schema::{notices, privacy_request_tasks as tasks};
use crate::domain::ids::{NoticeId, PrivacyRequestId, TaskId};
use crate::domain::outcome::TaskStatus;
use crate::domain::privacy_request::RequestKind;
use crate::error::{ApiError, ApiResult};
use chrono::{SubsecRound, Utc};
use diesel::prelude::*;

/// The kinds whose changes tell recipients, and so wait for their outcomes.
const TELLING: [RequestKind; 3] = [
    RequestKind::Erasure,
    RequestKind::Rectification,
    RequestKind::Restriction,
];

/// 409 `recipients-unconfirmed` naming the notices without an outcome (for the kinds that tell
/// recipients), then 409 `tasks-open` naming the open tasks.
pub fn require_confirmed(conn: &mut PgConnection, row: &RequestRow) -> ApiResult<()> {
    if TELLING.iter().any(|k| k.as_str() == row.kind) {
        let unconfirmed: Vec<NoticeId> = notices::table
            .filter(notices::privacy_request_id.eq(row.id))
            .filter(notices::outcome_due_on.is_not_null())
            .filter(notices::outcome.is_null())
            .order(notices::seq)
            .select(notices::id)
            .load(conn)?;
        if !unconfirmed.is_empty() {
            return Err(ApiError::Unconfirmed(unconfirmed));
        }
    }
    let open: Vec<TaskId> = tasks::table
        .filter(tasks::request_id.eq(row.id))
        .filter(tasks::status.eq(TaskStatus::Open.as_str()))
        .order((tasks::created_at, tasks::id))
        .select(tasks::id)
        .load(conn)?;
    if !open.is_empty() {
        return Err(ApiError::TasksOpen(open));
    }
    Ok(())
}

/// Cancels the tasks a closed request still had open.
pub fn cancel_open_tasks(
    conn: &mut PgConnection,
    request: PrivacyRequestId,
    actor: &str,
) -> ApiResult<usize> {
    Ok(diesel::update(
        tasks::table
            .filter(tasks::request_id.eq(request))
            .filter(tasks::status.eq(TaskStatus::Open.as_str())),
    )
    .set((
        tasks::status.eq(TaskStatus::Cancelled.as_str()),
        tasks::completed_at.eq(Utc::now().trunc_subsecs(6)),
        tasks::completed_by.eq(actor),
        tasks::version.eq(tasks::version + 1),
    ))
    .execute(conn)?)
}
