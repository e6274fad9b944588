//! Subject rows, rectification rows and their queries; values are sealed and opened on the way
//! (see `sealed.rs`), each row fetched with its subject's wrapped data key in the same query.

use super::sealed::{SealedData, StoredSubject};
pub use super::standing::Lock;
use super::standing::Standing;
use crate::at_rest::{self, Cipher, Indexed, Wrapped};
use crate::db::schema::{purposes, subject_keys, subjects};
use crate::domain::ids::SubjectId;
use crate::domain::personal_code::PersonalCode;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

mod history;
pub use super::record::{NewRectification, RectificationRow, SubjectData, SubjectRow};
pub use history::*;

/// A new subject (its version starts at the column default, 1).
#[derive(Insertable)]
#[diesel(table_name = subjects)]
struct NewSubjectRow {
    id: SubjectId,
    #[diesel(embed)]
    data: SealedData,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_activity_at: DateTime<Utc>,
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

/// Inserts a new subject with a new data key, last active at `last_activity_at` (its creation,
/// or an earlier moment for a record imported from an older system).
pub fn insert(
    conn: &mut PgConnection,
    id: SubjectId,
    data: SubjectData,
    now: DateTime<Utc>,
    last_activity_at: DateTime<Utc>,
) -> ApiResult<SubjectRow> {
    // As stored: PostgreSQL keeps microseconds.
    let now = now.trunc_subsecs(6);
    let last_activity_at = last_activity_at.trunc_subsecs(6);
    let key = at_rest::store::new_key();
    let sealed = SealedData::seal(conn, &Cipher::new(&key), id, &data)?;
    let version = diesel::insert_into(subjects::table)
        .values(NewSubjectRow {
            id,
            data: sealed,
            created_at: now,
            updated_at: now,
            last_activity_at,
        })
        .returning(subjects::version)
        .get_result(conn)
        .map_err(duplicate_code_is_conflict)?;
    at_rest::store::store_subject_key(conn, id, &key)?;
    Ok(SubjectRow {
        id,
        version,
        data,
        created_at: now,
        updated_at: now,
        last_activity_at,
        erased_at: None,
        restriction_ground: None,
        restricted_since: None,
    })
}

/// A subject row and its wrapped data key, as one query selects them.
pub type Keyed = (StoredSubject, Option<Wrapped>);

/// Subject rows with their wrapped keys: the join every read of a subject uses, so that its key
/// comes in the same round trip.
macro_rules! keyed {
    () => {
        subjects::table.left_join(subject_keys::table).select((
            StoredSubject::as_select(),
            (subject_keys::key_id, subject_keys::wrapped).nullable(),
        ))
    };
}

/// Opens a row with its key: what every read of a subject answers with.
pub fn open_keyed((stored, wrapped): Keyed) -> ApiResult<(SubjectRow, Option<Cipher>)> {
    let key = at_rest::open_subject_key(stored.id, wrapped.as_ref())?;
    Ok((stored.open(key.as_ref()), key))
}

/// The subject with this id and its data key (none once erased), or 404.
pub fn find_keyed(
    conn: &mut PgConnection,
    id: SubjectId,
) -> ApiResult<(SubjectRow, Option<Cipher>)> {
    let found: Keyed = keyed!()
        .filter(subjects::id.eq(id))
        .first(conn)
        .optional()?
        .ok_or_else(super::standing::unknown)?;
    open_keyed(found)
}

/// The subject with this id: 404 when there is none, 410 when it is erased.
pub fn find(conn: &mut PgConnection, id: SubjectId) -> ApiResult<SubjectRow> {
    let (row, _) = find_keyed(conn, id)?;
    Standing::of(Some((row.erased_at, row.restriction_ground.as_deref())))?.require()?;
    Ok(row)
}

/// [`find`] with the subject's data key, holding the row for a rectification until the
/// transaction ends (the lock first, see [`Lock`]).
pub fn find_for_rectification(
    conn: &mut PgConnection,
    id: SubjectId,
) -> ApiResult<(SubjectRow, Option<Cipher>)> {
    Standing::read(conn, id, Lock::NoKeyUpdate)?.require()?;
    find_keyed(conn, id)
}

/// Every subject of `ids` that exists (in no particular order), still sealed, with its wrapped
/// key: one query for a whole batch. The group-commit writers fetch with it and leave the opening
/// ([`open_keyed`]) to the requests' own threads, outside the batch's transaction.
pub fn find_many_sealed(conn: &mut PgConnection, ids: &[SubjectId]) -> ApiResult<Vec<Keyed>> {
    Ok(keyed!().filter(subjects::id.eq_any(ids)).load(conn)?)
}

/// Exact-match filters of the subject list.
#[derive(Debug, Default)]
pub struct Filter {
    /// A valid personal code, as stored.
    pub personal_code: Option<String>,
    /// A valid e-mail address, normalised as stored.
    pub email: Option<String>,
}

/// Up to `limit` subjects after the cursor, in id order; erased ones are left out; the filters
/// match blind indexes.
pub fn list(
    conn: &mut PgConnection,
    filter: Filter,
    after: Option<SubjectId>,
    limit: i64,
) -> ApiResult<Vec<SubjectRow>> {
    let mut query = keyed!()
        .filter(subjects::erased_at.is_null())
        .order(subjects::id)
        .limit(limit)
        .into_boxed();
    if let Some(code) = filter.personal_code {
        let index = at_rest::blind_index(conn, Indexed::PersonalCode, &code)?;
        query = query.filter(subjects::personal_code_bidx.eq(index));
    }
    if let Some(email) = filter.email {
        let index = at_rest::blind_index(conn, Indexed::Email, &email)?;
        query = query.filter(subjects::email_bidx.eq(index));
    }
    if let Some(after) = after {
        query = query.filter(subjects::id.gt(after));
    }
    let rows: Vec<Keyed> = query.load(conn)?;
    rows.into_iter()
        .map(|row| open_keyed(row).map(|(row, _)| row))
        .collect()
}

/// The live (not erased) subject with this personal code, by its blind index: how a person's
/// own token finds their record.
pub fn live_id_by_personal_code(
    conn: &mut PgConnection,
    code: &PersonalCode,
) -> ApiResult<Option<SubjectId>> {
    let index = at_rest::blind_index(conn, Indexed::PersonalCode, code.as_str())?;
    Ok(subjects::table
        .filter(subjects::personal_code_bidx.eq(index))
        .filter(subjects::erased_at.is_null())
        .select(subjects::id)
        .first(conn)
        .optional()?)
}

/// Notes activity about a subject (a consent change or a staff disclosure record): its
/// `last_activity_at` moves to `at`, never back; the version stays. False when there is no such
/// subject.
pub fn touch(conn: &mut PgConnection, id: SubjectId, at: DateTime<Utc>) -> ApiResult<bool> {
    let updated = diesel::update(subjects::table.find(id))
        .set(subjects::last_activity_at.eq(latest(at)))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Notes activity about every subject of `ids` at `at` (a batch of consent changes) in one
/// statement, locking their rows in id order (so two batches never deadlock, and a concurrent
/// erasure or rectification of one of them waits for the batch); the ids that exist.
pub fn touch_many(
    conn: &mut PgConnection,
    ids: &[SubjectId],
    at: DateTime<Utc>,
) -> ApiResult<Vec<SubjectId>> {
    #[derive(QueryableByName)]
    struct Touched {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: SubjectId,
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Touched> = diesel::sql_query(
        "UPDATE subjects s SET last_activity_at = greatest(s.last_activity_at, $2) \
         FROM (SELECT id FROM subjects WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE) l \
         WHERE s.id = l.id RETURNING s.id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<diesel::sql_types::Timestamptz, _>(at)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

diesel::define_sql_function! {
    /// SQL's `greatest` of two moments: activity moves `last_activity_at` forward only (an
    /// imported record, or a clock a little behind another instance's, never moves it back).
    fn greatest(a: diesel::sql_types::Timestamptz, b: diesel::sql_types::Timestamptz) -> diesel::sql_types::Timestamptz;
}

/// `last_activity_at` moved to `at`, never back.
fn latest(
    at: DateTime<Utc>,
) -> greatest<
    subjects::last_activity_at,
    diesel::dsl::AsExprOf<DateTime<Utc>, diesel::sql_types::Timestamptz>,
> {
    greatest(subjects::last_activity_at, at)
}

/// Overwrites the fields if the subject is still at `version`, bumping it; `None` when another
/// change came first. The version condition in the UPDATE itself makes the check atomic: of two
/// concurrent updates from the same version, the second matches no row.
pub fn update(
    conn: &mut PgConnection,
    current: &SubjectRow,
    key: &Cipher,
    data: &SubjectData,
    now: DateTime<Utc>,
) -> ApiResult<Option<SubjectRow>> {
    let now = now.trunc_subsecs(6);
    let sealed = SealedData::seal(conn, key, current.id, data)?;
    let version: Option<(i32, DateTime<Utc>)> = diesel::update(
        subjects::table
            .filter(subjects::id.eq(current.id))
            .filter(subjects::version.eq(current.version))
            .filter(subjects::erased_at.is_null()),
    )
    .set((
        &sealed,
        subjects::version.eq(subjects::version + 1),
        subjects::updated_at.eq(now),
        subjects::last_activity_at.eq(latest(now)),
    ))
    .returning((subjects::version, subjects::last_activity_at))
    .get_result(conn)
    .optional()
    .map_err(duplicate_code_is_conflict)?;
    Ok(version.map(|(version, last_activity_at)| SubjectRow {
        version,
        data: data.clone(),
        updated_at: now,
        last_activity_at,
        ..current.clone()
    }))
}

/// Every consent purpose, by id.
pub fn purposes(conn: &mut PgConnection) -> ApiResult<Vec<PurposeRow>> {
    Ok(purposes::table
        .select(PurposeRow::as_select())
        .order(purposes::id)
        .load(conn)?)
}
