//! Rectification rows: a subject's correction history, its old and new values and reasons
//! sealed under the subject's key.

use crate::at_rest::{self, Cipher};
use crate::db::schema::rectifications;
use crate::domain::ids::{RectificationId, SubjectId};
use crate::error::ApiResult;
use crate::subjects::record::{NewRectification, RectificationRow};
use crate::subjects::sealed::StoredRectification;
use diesel::prelude::*;

/// Appends rectifications, sealed under the subject's key.
pub fn insert_rectifications(
    conn: &mut PgConnection,
    key: &Cipher,
    rows: &[NewRectification],
) -> ApiResult<()> {
    let sealed: Vec<StoredRectification> = rows
        .iter()
        .map(|row| StoredRectification::seal(key, row))
        .collect();
    diesel::insert_into(rectifications::table)
        .values(&sealed)
        .execute(conn)?;
    Ok(())
}

/// The subject's rectifications after the cursor in id (time) order; all of them without a limit.
pub fn rectifications(
    conn: &mut PgConnection,
    subject_id: SubjectId,
    after: Option<RectificationId>,
    limit: Option<i64>,
) -> ApiResult<Vec<RectificationRow>> {
    let mut query = rectifications::table
        .filter(rectifications::subject_id.eq(subject_id))
        .select(StoredRectification::as_select())
        .order(rectifications::id)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(rectifications::id.gt(after));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    let rows: Vec<StoredRectification> = query.load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let key = at_rest::subject_key(conn, subject_id)?;
    Ok(rows.into_iter().map(|row| row.open(key.as_ref())).collect())
}
