//! The `notices` table: reading notices for the API and the export, and the state changes staff
//! make (retry, acknowledge) or a webhook's end causes (pending notices become `manual`). What the
//! delivery worker does to it lives in `worker`'s own queries.

use crate::db::schema::{notices, webhooks};
use crate::domain::ids::{NoticeId, PrivacyRequestId, RecipientId, SubjectId, WebhookId};
use crate::domain::notice::{NoticeStatus, WebhookStatus};
use crate::domain::outcome::NoticeOutcome;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

/// A stored notice.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notices)]
pub struct NoticeRow {
    pub id: NoticeId,
    pub seq: i64,
    pub recipient_id: RecipientId,
    pub subject_id: SubjectId,
    pub kind: String,
    pub categories: Option<Vec<String>>,
    pub purpose: Option<String>,
    pub webhook_id: Option<WebhookId>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub note: Option<String>,
    pub privacy_request_id: Option<PrivacyRequestId>,
    pub outcome_due_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub outcome_reason_enc: Option<Vec<u8>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub outcome_recorded_by: Option<String>,
    pub outcome_recorded_at: Option<DateTime<Utc>>,
    pub override_reason_enc: Option<Vec<u8>>,
}

/// The `outcome` filter of the notices' list.
#[derive(Debug, Clone, Copy)]
pub enum OutcomeFilter {
    /// Due an outcome that has not come.
    Pending,
    /// Due an outcome that has not come, and past its due date (before this Tallinn date).
    Overdue(NaiveDate),
    /// With this outcome.
    Is(NoticeOutcome),
}

impl OutcomeFilter {
    /// `pending`, `overdue` (as of `today`) or an outcome.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Self, String> {
        match text {
            "pending" => Ok(Self::Pending),
            "overdue" => Ok(Self::Overdue(today)),
            other => NoticeOutcome::parse(other).map(Self::Is).map_err(|_| {
                "must be one of `pending`, `overdue`, `done`, `not_held`, `refused`".to_owned()
            }),
        }
    }
}

/// The filters of the list (combined with AND).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub recipient_id: Option<RecipientId>,
    pub subject_id: Option<SubjectId>,
    pub status: Option<NoticeStatus>,
    pub outcome: Option<OutcomeFilter>,
}

/// A page of notices in the order they were queued, after the `seq` of `cursor`.
pub fn list(
    conn: &mut PgConnection,
    filter: &Filter,
    cursor: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<NoticeRow>> {
    let mut query = notices::table
        .select(NoticeRow::as_select())
        .order(notices::seq)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = cursor {
        query = query.filter(notices::seq.gt(after));
    }
    if let Some(recipient) = filter.recipient_id {
        query = query.filter(notices::recipient_id.eq(recipient));
    }
    if let Some(subject) = filter.subject_id {
        query = query.filter(notices::subject_id.eq(subject));
    }
    if let Some(status) = filter.status {
        query = query.filter(notices::status.eq(status.as_str()));
    }
    // `pending` and `overdue` concern only the notices that take an outcome.
    match filter.outcome {
        Some(OutcomeFilter::Pending) => {
            query = query
                .filter(notices::outcome_due_on.is_not_null())
                .filter(notices::outcome.is_null());
        }
        Some(OutcomeFilter::Overdue(today)) => {
            query = query
                .filter(notices::outcome_due_on.lt(today))
                .filter(notices::outcome.is_null());
        }
        Some(OutcomeFilter::Is(outcome)) => {
            query = query.filter(notices::outcome.eq(outcome.as_str()));
        }
        None => {}
    }
    Ok(query.load(conn)?)
}

/// One notice, or 404.
pub fn find(conn: &mut PgConnection, id: NoticeId) -> ApiResult<NoticeRow> {
    notices::table
        .find(id)
        .select(NoticeRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("notification"))
}

/// One notice under a row lock (so that staff and the worker change it one at a time), or 404.
pub fn lock(conn: &mut PgConnection, id: NoticeId) -> ApiResult<NoticeRow> {
    notices::table
        .find(id)
        .select(NoticeRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("notification"))
}

/// Every notice about the subject, oldest first.
pub fn of_subject(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<NoticeRow>> {
    Ok(notices::table
        .filter(notices::subject_id.eq(subject))
        .order(notices::seq)
        .select(NoticeRow::as_select())
        .load(conn)?)
}

/// The newest active webhook of a recipient: where its notices go.
pub fn route(conn: &mut PgConnection, recipient: RecipientId) -> ApiResult<Option<WebhookId>> {
    Ok(webhooks::table
        .filter(webhooks::recipient_id.eq(recipient))
        .filter(webhooks::status.eq(WebhookStatus::Active.as_str()))
        .order((webhooks::created_at.desc(), webhooks::id.desc()))
        .select(webhooks::id)
        .first(conn)
        .optional()?)
}

/// Makes a locked `dead` or `pending` notice due now, on the recipient's current webhook (or
/// `manual` when it has none any more); a lease a worker holds is left to run out.
pub fn retry(conn: &mut PgConnection, row: &NoticeRow) -> ApiResult<NoticeRow> {
    let webhook = route(conn, row.recipient_id)?;
    let status = match webhook {
        Some(_) => NoticeStatus::Pending,
        None => NoticeStatus::Manual,
    };
    let due = webhook.map(|_| Utc::now());
    Ok(diesel::update(notices::table.find(row.id))
        .set((
            notices::status.eq(status.as_str()),
            notices::webhook_id.eq(webhook),
            notices::next_attempt_at.eq(due),
        ))
        .returning(NoticeRow::as_returning())
        .get_result(conn)?)
}

/// Records that staff delivered a locked notice another way.
pub fn acknowledge(
    conn: &mut PgConnection,
    id: NoticeId,
    actor: &str,
    note: &str,
) -> ApiResult<NoticeRow> {
    Ok(diesel::update(notices::table.find(id))
        .set((
            notices::status.eq(NoticeStatus::Acknowledged.as_str()),
            notices::acknowledged_at.eq(Utc::now()),
            notices::acknowledged_by.eq(actor),
            notices::note.eq(note),
            notices::next_attempt_at.eq(None::<DateTime<Utc>>),
            notices::lease.eq(None::<uuid::Uuid>),
            notices::lease_until.eq(None::<DateTime<Utc>>),
        ))
        .returning(NoticeRow::as_returning())
        .get_result(conn)?)
}

/// The pending notices of a webhook that is gone or disabled become `manual`.
pub fn orphan(conn: &mut PgConnection, webhook: WebhookId) -> ApiResult<usize> {
    Ok(diesel::update(
        notices::table
            .filter(notices::webhook_id.eq(webhook))
            .filter(notices::status.eq(NoticeStatus::Pending.as_str())),
    )
    .set((
        notices::status.eq(NoticeStatus::Manual.as_str()),
        notices::next_attempt_at.eq(None::<DateTime<Utc>>),
        notices::lease.eq(None::<uuid::Uuid>),
        notices::lease_until.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)?)
}

/// The figures of the metrics.
#[derive(Debug, QueryableByName)]
pub struct Counts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub pending: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub dead: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub manual: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub oldest_pending_age_s: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub outcomes_overdue: i64,
}

/// Pending, dead and manual notices, the age of the oldest pending one and the recipients'
/// outcomes past their due date, each from a partial index.
pub fn counts(conn: &mut PgConnection) -> ApiResult<Counts> {
    Ok(diesel::sql_query(
        "SELECT (SELECT count(*) FROM notices WHERE status = 'pending') AS pending, \
                (SELECT count(*) FROM notices WHERE status = 'dead') AS dead, \
                (SELECT count(*) FROM notices WHERE status = 'manual') AS manual, \
                coalesce((SELECT extract(epoch FROM now() - min(created_at))::bigint \
                          FROM notices WHERE status = 'pending'), 0) AS oldest_pending_age_s, \
                (SELECT count(*) FROM notices WHERE outcome IS NULL \
                   AND outcome_due_on < (now() AT TIME ZONE 'Europe/Tallinn')::date) \
                  AS outcomes_overdue",
    )
    .get_result(conn)?)
}
