//! Hold rows and their queries.

use crate::db::schema::holds;
use crate::domain::ids::{HoldId, SubjectId};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use diesel::prelude::*;

/// A hold as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = holds, check_for_backend(diesel::pg::Pg))]
pub struct HoldRow {
    pub id: HoldId,
    pub subject_id: SubjectId,
    pub ground: String,
    pub legal_reference: String,
    pub review_on: NaiveDate,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
    pub release_reason: Option<String>,
    pub released_by: Option<String>,
}

/// The oldest active hold on the subject, if any: what blocks its erasure.
pub fn active_hold(conn: &mut PgConnection, subject: SubjectId) -> QueryResult<Option<HoldId>> {
    holds::table
        .filter(holds::subject_id.eq(subject))
        .filter(holds::released_at.is_null())
        .order(holds::id)
        .select(holds::id)
        .first(conn)
        .optional()
}

/// [`active_hold`] as a scalar subquery about `{subject}`, for the erasure's read
/// (`rights::erasure`), which asks it together with the consents in one statement.
pub const ACTIVE_HOLD: &str = "SELECT h.id FROM holds h WHERE h.subject_id = {subject} \
     AND h.released_at IS NULL ORDER BY h.id LIMIT 1";

/// Inserts a hold.
pub fn insert(conn: &mut PgConnection, row: &HoldRow) -> ApiResult<()> {
    diesel::insert_into(holds::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Every hold of the subject, oldest first.
pub fn of_subject(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<HoldRow>> {
    Ok(holds::table
        .filter(holds::subject_id.eq(subject))
        .order(holds::id)
        .select(HoldRow::as_select())
        .load(conn)?)
}

/// Releases a hold of the subject: 404 when there is none, 409 when already released.
pub fn release(
    conn: &mut PgConnection,
    subject: SubjectId,
    id: HoldId,
    reason: &str,
    actor: &str,
) -> ApiResult<HoldRow> {
    let released_at: Option<DateTime<Utc>> = holds::table
        .filter(holds::subject_id.eq(subject))
        .filter(holds::id.eq(id))
        .select(holds::released_at)
        .for_no_key_update()
        .first::<Option<DateTime<Utc>>>(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("hold"))?;
    if released_at.is_some() {
        return Err(ApiError::client(
            actix_web::http::StatusCode::CONFLICT,
            "hold-released",
            "the hold is already released",
        ));
    }
    Ok(diesel::update(holds::table.find(id))
        .set((
            holds::released_at.eq(Utc::now().trunc_subsecs(6)),
            holds::release_reason.eq(reason),
            holds::released_by.eq(actor),
        ))
        .returning(HoldRow::as_returning())
        .get_result(conn)?)
}
