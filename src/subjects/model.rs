//! Subject rows, rectification rows and their queries.

use crate::db::schema::{purposes, rectifications, subjects};
use crate::domain::ids::{RectificationId, SubjectId};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::Value;

/// The fields staff set, validated: what a create inserts and a rectification overwrites.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = subjects, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct SubjectData {
    pub kind: String,
    pub given_name: String,
    pub family_name: String,
    pub personal_code: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address_street: Option<String>,
    pub address_city: Option<String>,
    pub address_postal_code: Option<String>,
    pub address_country: Option<String>,
    pub preferred_language: Option<String>,
    pub source_type: String,
    pub source_name: Option<String>,
    pub source_reference: Option<String>,
    pub source_collected_at: Option<DateTime<Utc>>,
    pub source_attestation: Option<String>,
}

impl SubjectData {
    /// Every field under its name in the API (nested ones dotted) with its JSON value: what a
    /// rectification compares and records.
    pub fn fields(&self) -> [(&'static str, Value); 16] {
        let text = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        [
            ("kind", Value::from(self.kind.as_str())),
            ("given_name", Value::from(self.given_name.as_str())),
            ("family_name", Value::from(self.family_name.as_str())),
            ("personal_code", text(&self.personal_code)),
            ("email", text(&self.email)),
            ("phone", text(&self.phone)),
            ("address.street", text(&self.address_street)),
            ("address.city", text(&self.address_city)),
            ("address.postal_code", text(&self.address_postal_code)),
            ("address.country", text(&self.address_country)),
            ("preferred_language", text(&self.preferred_language)),
            ("source.type", Value::from(self.source_type.as_str())),
            ("source.name", text(&self.source_name)),
            ("source.reference", text(&self.source_reference)),
            (
                "source.collected_at",
                serde_json::to_value(self.source_collected_at).unwrap_or(Value::Null),
            ),
            (
                "source.lawful_collection_attestation",
                text(&self.source_attestation),
            ),
        ]
    }
}

/// A subject as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subjects, check_for_backend(diesel::pg::Pg))]
pub struct SubjectRow {
    pub id: SubjectId,
    pub version: i32,
    #[diesel(embed)]
    pub data: SubjectData,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
    pub restriction_ground: Option<String>,
    pub restricted_since: Option<DateTime<Utc>>,
}

/// What decides how a subject may be processed: whether it is erased, and its restriction.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subjects, check_for_backend(diesel::pg::Pg))]
pub struct Standing {
    pub erased_at: Option<DateTime<Utc>>,
    pub restriction_ground: Option<String>,
    pub restricted_since: Option<DateTime<Utc>>,
}

/// The row lock a change takes on its subject before anything else, so that it and an erasure
/// or a restriction of the subject happen one after the other, never interleaved. Taking it
/// first is also the lock order that keeps them free of deadlocks: an erasure locks the subject,
/// then its consents and authorizations; every change locks the subject, then those rows.
///
/// A change that will also update the subject's row later in its transaction must take
/// [`Lock::NoKeyUpdate`] up front, never [`Lock::KeyShare`] and then an `UPDATE`: two such
/// transactions holding the share lock would each wait for the other to upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// No lock: a read.
    None,
    /// Writes about the subject (consents, authorizations, disclosures, holds): they exclude an
    /// erasure or restriction under way, and one another not at all.
    KeyShare,
    /// A rectification: it excludes an erasure or restriction and other rectifications.
    NoKeyUpdate,
    /// An erasure or restriction: it excludes every other change about the subject.
    Update,
}

/// The subject's standing, taking `lock` on its row; `None` when there is no such subject.
pub fn standing(
    conn: &mut PgConnection,
    id: SubjectId,
    lock: Lock,
) -> QueryResult<Option<Standing>> {
    let query = subjects::table.find(id).select(Standing::as_select());
    match lock {
        Lock::None => query.first(conn),
        Lock::KeyShare => query.for_key_share().first(conn),
        Lock::NoKeyUpdate => query.for_no_key_update().first(conn),
        Lock::Update => query.for_update().first(conn),
    }
    .optional()
}

/// A new subject (its version starts at the column default, 1).
#[derive(Insertable)]
#[diesel(table_name = subjects)]
struct NewSubjectRow {
    id: SubjectId,
    #[diesel(embed)]
    data: SubjectData,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A rectification as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rectifications, check_for_backend(diesel::pg::Pg))]
pub struct RectificationRow {
    pub id: RectificationId,
    pub subject_id: SubjectId,
    pub field: String,
    pub old_value: Option<Value>,
    pub new_value: Option<Value>,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
}

/// A rectification about to be appended.
#[derive(Debug, Insertable)]
#[diesel(table_name = rectifications)]
pub struct NewRectification {
    pub id: RectificationId,
    pub subject_id: SubjectId,
    pub field: String,
    pub old_value: Option<Value>,
    pub new_value: Option<Value>,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
}

/// A consent purpose's id and descriptions.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = purposes, check_for_backend(diesel::pg::Pg))]
pub struct PurposeRow {
    pub id: String,
    pub description_et: String,
    pub description_en: String,
}

/// 409 for a personal code another subject already has; other errors as usual.
fn duplicate_code_is_conflict(error: DieselError) -> ApiError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            ApiError::conflict("another subject already has this personal_code")
        }
        other => other.into(),
    }
}

/// Inserts a new subject.
pub fn insert(
    conn: &mut PgConnection,
    id: SubjectId,
    data: SubjectData,
    now: DateTime<Utc>,
) -> ApiResult<SubjectRow> {
    diesel::insert_into(subjects::table)
        .values(NewSubjectRow {
            id,
            data,
            created_at: now,
            updated_at: now,
        })
        .returning(SubjectRow::as_returning())
        .get_result(conn)
        .map_err(duplicate_code_is_conflict)
}

/// The subject with this id: 404 when there is none, 410 when it is erased.
pub fn find(conn: &mut PgConnection, id: SubjectId) -> ApiResult<SubjectRow> {
    live(
        subjects::table
            .find(id)
            .select(SubjectRow::as_select())
            .first(conn)
            .optional()?,
    )
}

/// [`find`], holding the row for a rectification until the transaction ends.
pub fn find_for_rectification(conn: &mut PgConnection, id: SubjectId) -> ApiResult<SubjectRow> {
    live(
        subjects::table
            .find(id)
            .select(SubjectRow::as_select())
            .for_no_key_update()
            .first(conn)
            .optional()?,
    )
}

/// The row found: 404 for none, 410 for an erased one.
fn live(row: Option<SubjectRow>) -> ApiResult<SubjectRow> {
    let row = row.ok_or_else(|| ApiError::not_found("subject"))?;
    match row.erased_at {
        Some(at) => Err(ApiError::Erased(at)),
        None => Ok(row),
    }
}

/// Every subject of `ids` that exists (in no particular order): one query for a whole batch.
pub fn find_many(conn: &mut PgConnection, ids: &[SubjectId]) -> ApiResult<Vec<SubjectRow>> {
    Ok(subjects::table
        .filter(subjects::id.eq_any(ids))
        .select(SubjectRow::as_select())
        .load(conn)?)
}

/// Exact-match filters of the subject list.
#[derive(Debug, Default)]
pub struct Filter {
    /// A valid personal code, as stored.
    pub personal_code: Option<String>,
    /// A valid e-mail address, normalised as stored.
    pub email: Option<String>,
}

/// Up to `limit` subjects after the cursor, in id order; erased ones are left out.
pub fn list(
    conn: &mut PgConnection,
    filter: Filter,
    after: Option<SubjectId>,
    limit: i64,
) -> ApiResult<Vec<SubjectRow>> {
    let mut query = subjects::table
        .filter(subjects::erased_at.is_null())
        .select(SubjectRow::as_select())
        .order(subjects::id)
        .limit(limit)
        .into_boxed();
    if let Some(code) = filter.personal_code {
        query = query.filter(subjects::personal_code.eq(code));
    }
    if let Some(email) = filter.email {
        query = query.filter(subjects::email.eq(email));
    }
    if let Some(after) = after {
        query = query.filter(subjects::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// Overwrites the fields if the subject is still at `version`, bumping it; `None` when another
/// change came first. The version condition in the UPDATE itself makes the check atomic: of two
/// concurrent updates from the same version, the second matches no row.
pub fn update(
    conn: &mut PgConnection,
    id: SubjectId,
    version: i32,
    data: &SubjectData,
    now: DateTime<Utc>,
) -> ApiResult<Option<SubjectRow>> {
    diesel::update(
        subjects::table
            .filter(subjects::id.eq(id))
            .filter(subjects::version.eq(version))
            .filter(subjects::erased_at.is_null()),
    )
    .set((
        data,
        subjects::version.eq(subjects::version + 1),
        subjects::updated_at.eq(now),
    ))
    .returning(SubjectRow::as_returning())
    .get_result(conn)
    .optional()
    .map_err(duplicate_code_is_conflict)
}

/// Appends rectifications.
pub fn insert_rectifications(conn: &mut PgConnection, rows: &[NewRectification]) -> ApiResult<()> {
    diesel::insert_into(rectifications::table)
        .values(rows)
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
        .select(RectificationRow::as_select())
        .order(rectifications::id)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(rectifications::id.gt(after));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    Ok(query.load(conn)?)
}

/// Every consent purpose, by id.
pub fn purposes(conn: &mut PgConnection) -> ApiResult<Vec<PurposeRow>> {
    Ok(purposes::table
        .select(PurposeRow::as_select())
        .order(purposes::id)
        .load(conn)?)
}
