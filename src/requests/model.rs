//! Privacy-request rows and their queries.

use crate::db::schema::privacy_requests as requests;
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::subjects::model::Lock;
use crate::subjects::standing::Standing;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

/// A stored privacy request.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = requests, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct RequestRow {
    pub id: PrivacyRequestId,
    pub version: i32,
    pub kind: String,
    pub subject_id: Option<SubjectId>,
    pub channel: String,
    pub received_at: DateTime<Utc>,
    pub received_on: NaiveDate,
    pub reference: Option<String>,
    pub status: String,
    pub original_due_on: NaiveDate,
    pub due_on: NaiveDate,
    pub extended: bool,
    pub extension_reason: Option<String>,
    pub subject_informed_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verification_method: Option<String>,
    pub verified_by: Option<String>,
    pub duplicate_of: Option<PrivacyRequestId>,
    pub override_reason: Option<String>,
    /// The person's own words, when they filed it (sealed under their key).
    pub details_enc: Option<Vec<u8>>,
    /// How the person's login vouched for them, when they filed it themselves (JSON).
    pub login_verification: Option<String>,
}

/// The exact-match filters of the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub subject_id: Option<SubjectId>,
    /// Only open requests due before this date.
    pub overdue_on: Option<NaiveDate>,
}

/// Whether the subject has been erased.
pub fn subject_erased(conn: &mut PgConnection, id: SubjectId) -> ApiResult<bool> {
    let standing = Standing::read(conn, id, Lock::None)?;
    Ok(matches!(standing, Standing::Erased(_)))
}

/// The oldest open request of this kind about this subject: the one a new request duplicates.
pub fn open_original(
    conn: &mut PgConnection,
    kind: &str,
    subject: SubjectId,
) -> ApiResult<Option<PrivacyRequestId>> {
    Ok(requests::table
        .filter(requests::subject_id.eq(subject))
        .filter(requests::kind.eq(kind))
        .filter(requests::status.eq("open"))
        .order(requests::id)
        .select(requests::id)
        .first(conn)
        .optional()?)
}

/// Inserts a request.
pub fn insert(conn: &mut PgConnection, row: &RequestRow) -> ApiResult<()> {
    diesel::insert_into(requests::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The request, or 404.
pub fn find(conn: &mut PgConnection, id: PrivacyRequestId) -> ApiResult<RequestRow> {
    requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("privacy request"))
}

/// The request locked for a change, or 404.
pub fn lock(conn: &mut PgConnection, id: PrivacyRequestId) -> ApiResult<RequestRow> {
    requests::table
        .find(id)
        .select(RequestRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("privacy request"))
}

/// Stores a changed request (its version already advanced).
pub fn update(conn: &mut PgConnection, row: &RequestRow) -> ApiResult<()> {
    diesel::update(requests::table.find(row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` requests after `cursor` in id order (the order they were recorded in).
pub fn list(
    conn: &mut PgConnection,
    filter: &Filter,
    cursor: Option<PrivacyRequestId>,
    limit: i64,
) -> ApiResult<Vec<RequestRow>> {
    let mut query = requests::table
        .select(RequestRow::as_select())
        .order(requests::id)
        .limit(limit)
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(requests::status.eq(status.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(requests::kind.eq(kind.clone()));
    }
    if let Some(subject) = filter.subject_id {
        query = query.filter(requests::subject_id.eq(subject));
    }
    if let Some(day) = filter.overdue_on {
        query = query
            .filter(requests::status.eq("open"))
            .filter(requests::due_on.lt(day));
    }
    if let Some(after) = cursor {
        query = query.filter(requests::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// Every request about the subject, oldest first.
pub fn of_subject(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<RequestRow>> {
    Ok(requests::table
        .filter(requests::subject_id.eq(subject))
        .order(requests::id)
        .select(RequestRow::as_select())
        .load(conn)?)
}

/// What the gauges show: open requests, those overdue (due before `today`), and those due
/// within the week ahead (today included), so that an alert can fire before a deadline passes.
pub struct Counts {
    pub open: i64,
    pub overdue: i64,
    pub due_within_week: i64,
}

/// The gauges' figures, in one scan of the open requests.
pub fn counts(conn: &mut PgConnection, today: NaiveDate) -> ApiResult<Counts> {
    let week = today + chrono::Duration::days(7);
    let (open, overdue, due_within_week): (i64, i64, i64) = requests::table
        .filter(requests::status.eq("open"))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::sql::<diesel::sql_types::BigInt>("count(*) FILTER (WHERE due_on < ")
                .bind::<diesel::sql_types::Date, _>(today)
                .sql(")"),
            diesel::dsl::sql::<diesel::sql_types::BigInt>("count(*) FILTER (WHERE due_on >= ")
                .bind::<diesel::sql_types::Date, _>(today)
                .sql(" AND due_on < ")
                .bind::<diesel::sql_types::Date, _>(week)
                .sql(")"),
        ))
        .get_result(conn)?;
    Ok(Counts {
        open,
        overdue,
        due_within_week,
    })
}
