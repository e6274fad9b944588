//! Recipient rows and their queries.

use crate::db::schema::recipients;
use crate::domain::ids::RecipientId;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// The stored status of a recipient that may receive data.
pub const ACTIVE: &str = "active";

/// A stored recipient.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recipients, check_for_backend(diesel::pg::Pg))]
pub struct RecipientRow {
    pub id: RecipientId,
    pub version: i32,
    pub name: String,
    pub registry_code: Option<String>,
    pub category: String,
    pub contact_email: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A recipient about to be inserted.
#[derive(Debug, Insertable)]
#[diesel(table_name = recipients)]
pub struct NewRecipientRow {
    pub id: RecipientId,
    pub name: String,
    pub registry_code: Option<String>,
    pub category: String,
    pub contact_email: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a patch replaces; `None` keeps the stored value.
#[derive(Debug, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub status: Option<String>,
}

impl Changes {
    /// True when the patch would change nothing stored in `row`.
    fn is_noop_for(&self, row: &RecipientRow) -> bool {
        self.name.as_ref().is_none_or(|v| *v == row.name)
            && self
                .contact_email
                .as_ref()
                .is_none_or(|v| *v == row.contact_email)
            && self.status.as_ref().is_none_or(|v| *v == row.status)
    }
}

/// Inserts a recipient; a registry code already registered is a 409.
pub fn insert(conn: &mut PgConnection, row: &NewRecipientRow) -> ApiResult<RecipientRow> {
    diesel::insert_into(recipients::table)
        .values(row)
        .returning(RecipientRow::as_returning())
        .get_result(conn)
        .map_err(|e| match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::conflict("a recipient with this registry code already exists")
            }
            other => other.into(),
        })
}

/// One recipient, or 404.
pub fn find(conn: &mut PgConnection, id: RecipientId) -> ApiResult<RecipientRow> {
    recipients::table
        .find(id)
        .select(RecipientRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("recipient"))
}

/// The filters of a listing.
#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub category: Option<String>,
}

/// Up to `limit + 1` recipients after `cursor`, in id (creation) order.
pub fn list(
    conn: &mut PgConnection,
    filter: &Filter,
    cursor: Option<RecipientId>,
    limit: i64,
) -> ApiResult<Vec<RecipientRow>> {
    let mut query = recipients::table
        .select(RecipientRow::as_select())
        .order(recipients::id)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = cursor {
        query = query.filter(recipients::id.gt(after));
    }
    if let Some(status) = &filter.status {
        query = query.filter(recipients::status.eq(status.clone()));
    }
    if let Some(category) = &filter.category {
        query = query.filter(recipients::category.eq(category.clone()));
    }
    Ok(query.load(conn)?)
}

/// Applies a patch under a row lock, once `if_match` holds for the current version (412 when
/// not).
pub fn update(
    conn: &mut PgConnection,
    id: RecipientId,
    changes: Changes,
    if_match: crate::precondition::IfMatch,
) -> ApiResult<RecipientRow> {
    // FOR NO KEY UPDATE, not FOR UPDATE: inserts referencing the recipient need not wait.
    let current: RecipientRow = recipients::table
        .find(id)
        .select(RecipientRow::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("recipient"))?;
    if_match.check(current.version)?;
    if changes.is_noop_for(&current) {
        return Ok(current);
    }
    let row = diesel::update(recipients::table.find(id))
        .set((
            recipients::name.eq(changes.name.unwrap_or(current.name)),
            recipients::contact_email.eq(changes.contact_email.unwrap_or(current.contact_email)),
            recipients::status.eq(changes.status.unwrap_or(current.status)),
            recipients::version.eq(current.version + 1),
            recipients::updated_at.eq(Utc::now()),
        ))
        .returning(RecipientRow::as_returning())
        .get_result(conn)?;
    Ok(row)
}
