//! Processing-activity rows: the current version of each, and every version it had.

use crate::db::schema::{
    processing_activities as activities, processing_activity_versions as versions,
};
use crate::domain::ids::ActivityId;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// An activity as it stands now.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = activities, check_for_backend(diesel::pg::Pg))]
pub struct ActivityRow {
    pub id: ActivityId,
    pub version: i32,
    pub status: String,
    pub doc: serde_json::Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One version of an activity.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = versions, check_for_backend(diesel::pg::Pg))]
pub struct VersionRow {
    pub activity_id: ActivityId,
    pub version: i32,
    pub status: String,
    pub doc: serde_json::Value,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

impl ActivityRow {
    /// This state as a version row.
    pub fn as_version(&self) -> VersionRow {
        VersionRow {
            activity_id: self.id,
            version: self.version,
            status: self.status.clone(),
            doc: self.doc.clone(),
            changed_at: self.updated_at,
            changed_by: self.created_by.clone(),
        }
    }
}

/// Stores a new activity and its first version.
pub fn insert(conn: &mut PgConnection, row: &ActivityRow) -> ApiResult<()> {
    diesel::insert_into(activities::table)
        .values(row)
        .execute(conn)?;
    diesel::insert_into(versions::table)
        .values(row.as_version())
        .execute(conn)?;
    Ok(())
}

/// Stores a changed activity (its version already advanced) and the version, by `actor`.
pub fn update(conn: &mut PgConnection, row: &ActivityRow, actor: &str) -> ApiResult<()> {
    diesel::update(activities::table.find(row.id))
        .set(row)
        .execute(conn)?;
    let mut version = row.as_version();
    actor.clone_into(&mut version.changed_by);
    diesel::insert_into(versions::table)
        .values(version)
        .execute(conn)?;
    Ok(())
}

/// The activity, or 404.
pub fn find(conn: &mut PgConnection, id: ActivityId) -> ApiResult<ActivityRow> {
    activities::table
        .find(id)
        .select(ActivityRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("processing activity"))
}

/// The activity locked for a change, or 404.
pub fn lock(conn: &mut PgConnection, id: ActivityId) -> ApiResult<ActivityRow> {
    activities::table
        .find(id)
        .select(ActivityRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("processing activity"))
}

/// Up to `limit` activities after `cursor`, in id order.
pub fn list(
    conn: &mut PgConnection,
    status: Option<&str>,
    cursor: Option<ActivityId>,
    limit: i64,
) -> ApiResult<Vec<ActivityRow>> {
    let mut query = activities::table
        .select(ActivityRow::as_select())
        .order(activities::id)
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(activities::status.eq(status.to_owned()));
    }
    if let Some(after) = cursor {
        query = query.filter(activities::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// Up to `limit` versions of an activity after `cursor`, oldest first.
pub fn versions_of(
    conn: &mut PgConnection,
    id: ActivityId,
    cursor: Option<i32>,
    limit: i64,
) -> ApiResult<Vec<VersionRow>> {
    let mut query = versions::table
        .filter(versions::activity_id.eq(id))
        .select(VersionRow::as_select())
        .order(versions::version)
        .limit(limit)
        .into_boxed();
    if let Some(after) = cursor {
        query = query.filter(versions::version.gt(after));
    }
    Ok(query.load(conn)?)
}

/// Every activity as it stood at `moment`, when it was then active, in id order.
pub fn active_at(conn: &mut PgConnection, moment: DateTime<Utc>) -> ApiResult<Vec<VersionRow>> {
    let rows: Vec<VersionRow> = versions::table
        .filter(versions::changed_at.le(moment))
        .distinct_on(versions::activity_id)
        .order((versions::activity_id, versions::version.desc()))
        .select(VersionRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().filter(|v| v.status == "active").collect())
}

/// Whether an active activity with this id exists now.
pub fn is_active(conn: &mut PgConnection, id: ActivityId) -> ApiResult<Option<bool>> {
    Ok(activities::table
        .find(id)
        .select(activities::status)
        .first::<String>(conn)
        .optional()?
        .map(|s| s == "active"))
}
