//! Recipients' outcomes (Art. 17(2), 19): a `subject.erased`, `subject.rectified` or
//! `subject.restricted` notice is due an answer from its recipient (`done`, `not_held` or
//! `refused`) by `outcome_due_on`, the `NOTICE_OUTCOME_WORKING_DAYS`-th Estonian working day
//! after the Tallinn date it was queued on. A notice that carries a privacy request opens a task
//! on it, which the outcome closes. Reasons are free text sealed under the service key: the
//! subject's key may be gone (an erasure) by the time a recipient answers.

use super::model::NoticeRow;
use crate::db::schema::{notices, privacy_request_tasks as tasks};
use crate::domain::ids::{NoticeId, PrivacyRequestId, TaskId};
use crate::domain::notice::NoticeType;
use crate::domain::outcome::{NoticeOutcome, TaskStatus};
use crate::domain::working_days::nth_working_day_after;
use crate::error::{ApiError, ApiResult};
use actix_web::http::StatusCode;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use diesel::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};

/// `NOTICE_OUTCOME_WORKING_DAYS`, installed once at start-up like the data keys: notices are
/// queued deep inside other resources' transactions (erasure, retention runs), which know no
/// configuration.
static WORKING_DAYS: AtomicU32 = AtomicU32::new(10);

/// Installs `NOTICE_OUTCOME_WORKING_DAYS`.
pub fn set_working_days(days: u32) {
    WORKING_DAYS.store(days, Ordering::Relaxed);
}

/// Whether a notice of this type is due an outcome from its recipient.
pub fn takes_outcome(kind: NoticeType) -> bool {
    matches!(
        kind,
        NoticeType::Erased | NoticeType::Rectified | NoticeType::Restricted
    )
}

/// When the outcome of a notice of `kind` queued on the Tallinn date `queued` is due; `None`
/// for a type that takes none.
pub fn due_on(kind: NoticeType, queued: NaiveDate) -> Option<NaiveDate> {
    takes_outcome(kind)
        .then(|| nth_working_day_after(queued, WORKING_DAYS.load(Ordering::Relaxed)))
        .flatten()
}

pub use super::outcome_filter::OutcomeFilter;

/// A notice's reasons in clear.
#[derive(Debug, Default, Clone)]
pub struct Reasons {
    pub outcome: Option<String>,
    pub override_reason: Option<String>,
}

/// An outcome to record: the recipient's own, or staff's replacement with its reason.
pub struct Recorded<'a> {
    pub outcome: NoticeOutcome,
    pub reason: Option<&'a str>,
    pub completed_at: DateTime<Utc>,
    /// `recipient`, or the staff member's `sub`.
    pub by: &'a str,
    /// Staff only: why they replace or record it.
    pub override_reason: Option<&'a str>,
}

/// Now, as PostgreSQL stores it.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The purposes a notice's sealed reasons are bound to.
const REASON: &str = "notices.outcome_reason";
const OVERRIDE: &str = "notices.override_reason";

/// 409 `outcome-not-applicable` for a notice of a type that takes no outcome, 400 naming
/// `completed_at` when it is before the notice was queued.
pub fn check(row: &NoticeRow, completed_at: DateTime<Utc>) -> ApiResult<()> {
    if row.outcome_due_on.is_none() {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "outcome-not-applicable",
            format!("a {} notice takes no outcome", row.kind),
        ));
    }
    if completed_at < row.created_at {
        return Err(ApiError::invalid_field(
            "completed_at",
            "must not be before the notice was queued",
        ));
    }
    Ok(())
}

/// Records an outcome on a locked notice and closes the task it opened, in the caller's
/// transaction.
pub fn record(
    conn: &mut PgConnection,
    row: &NoticeRow,
    recorded: &Recorded<'_>,
) -> ApiResult<NoticeRow> {
    let id = row.id.uuid();
    let seal = |conn: &mut PgConnection, purpose, text: Option<&str>| {
        text.map(|t| {
            crate::at_rest::seal_service_secret(conn, purpose, id.as_bytes(), t.as_bytes())
        })
        .transpose()
    };
    let reason = seal(conn, REASON, recorded.reason)?;
    let override_reason = seal(conn, OVERRIDE, recorded.override_reason)?;
    let now = now();
    let updated = diesel::update(notices::table.find(row.id))
        .set((
            notices::outcome.eq(recorded.outcome.as_str()),
            notices::outcome_reason_enc.eq(reason),
            notices::completed_at.eq(recorded.completed_at),
            notices::outcome_recorded_by.eq(recorded.by),
            notices::outcome_recorded_at.eq(now),
            notices::override_reason_enc.eq(override_reason),
        ))
        .returning(NoticeRow::as_returning())
        .get_result(conn)?;
    diesel::update(
        tasks::table
            .filter(tasks::notification_id.eq(row.id))
            .filter(tasks::status.eq(TaskStatus::Open.as_str())),
    )
    .set((
        tasks::status.eq(TaskStatus::Done.as_str()),
        tasks::completed_at.eq(now),
        tasks::completed_by.eq(recorded.by),
        tasks::version.eq(tasks::version + 1),
    ))
    .execute(conn)?;
    Ok(updated)
}

/// The opened reasons of these notices: (outcome reason, override reason) by notice.
pub fn reasons(
    conn: &mut PgConnection,
    rows: &[NoticeRow],
) -> ApiResult<std::collections::HashMap<NoticeId, Reasons>> {
    let mut opened = std::collections::HashMap::new();
    for row in rows {
        if row.outcome_reason_enc.is_none() && row.override_reason_enc.is_none() {
            continue;
        }
        let id = row.id.uuid();
        let mut open = |purpose, sealed: &Option<Vec<u8>>| -> ApiResult<Option<String>> {
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            let clear = crate::at_rest::open_service_secret(conn, purpose, id.as_bytes(), sealed)?
                .ok_or_else(|| ApiError::internal("a notice's sealed reason does not open"))?;
            Ok(Some(String::from_utf8_lossy(&clear).into_owned()))
        };
        let reasons = Reasons {
            outcome: open(REASON, &row.outcome_reason_enc)?,
            override_reason: open(OVERRIDE, &row.override_reason_enc)?,
        };
        opened.insert(row.id, reasons);
    }
    Ok(opened)
}

/// Opens one task per notice of these requests that takes an outcome and has none yet, due
/// when the outcome is: the notices just queued by the caller's transaction.
pub fn open_tasks(conn: &mut PgConnection, requests: &[PrivacyRequestId]) -> ApiResult<usize> {
    let due: Vec<(NoticeId, Option<PrivacyRequestId>, Option<NaiveDate>)> = notices::table
        .filter(notices::privacy_request_id.eq_any(requests))
        .filter(notices::outcome_due_on.is_not_null())
        .filter(notices::outcome.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            tasks::table.filter(tasks::notification_id.eq(notices::id.nullable())),
        )))
        .select((
            notices::id,
            notices::privacy_request_id,
            notices::outcome_due_on,
        ))
        .load(conn)?;
    let now = now();
    let rows: Vec<_> = due
        .into_iter()
        .filter_map(|(notice, request, due_on)| {
            Some((
                tasks::id.eq(TaskId::new()),
                tasks::request_id.eq(request?),
                tasks::due_on.eq(due_on),
                tasks::status.eq(TaskStatus::Open.as_str()),
                tasks::notification_id.eq(Some(notice)),
                tasks::created_at.eq(now),
            ))
        })
        .collect();
    Ok(diesel::insert_into(tasks::table)
        .values(&rows)
        .execute(conn)?)
}
