//! Rows, insert forms and queries of purposes, consent flags and consent events.

use super::versions::VersionRow;
use crate::at_rest::{Cipher, Place};
use crate::db::schema::{consent_events, purpose_versions, purposes};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Array, Bool, Text, Uuid as SqlUuid};

/// A purpose as stored.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = purposes, check_for_backend(Pg))]
pub struct PurposeRow {
    pub id: String,
    pub basis: String,
    pub description_et: String,
    pub description_en: String,
    pub created_at: DateTime<Utc>,
    /// The version in force.
    pub current_version: i32,
    /// The newest material version: opt-in grants of earlier versions are invalidated.
    pub material_version: i32,
}

/// A purpose to insert (`created_at` is the database's).
#[derive(Debug, Insertable)]
#[diesel(table_name = purposes)]
pub struct NewPurposeRow<'a> {
    pub id: &'a str,
    pub basis: &'a str,
    pub description_et: &'a str,
    pub description_en: &'a str,
}

/// Every purpose with its version in force, oldest first.
pub fn list_purposes(conn: &mut PgConnection) -> QueryResult<Vec<(PurposeRow, VersionRow)>> {
    purposes::table
        .inner_join(
            purpose_versions::table.on(purpose_versions::purpose_id
                .eq(purposes::id)
                .and(purpose_versions::version.eq(purposes::current_version))),
        )
        .select((PurposeRow::as_select(), VersionRow::as_select()))
        .order((purposes::created_at, purposes::id))
        .load(conn)
}

/// One purpose, if it exists.
pub fn find_purpose(conn: &mut PgConnection, id: &str) -> QueryResult<Option<PurposeRow>> {
    purposes::table
        .find(id)
        .select(PurposeRow::as_select())
        .first(conn)
        .optional()
}

/// One purpose with its version in force, if it exists.
pub fn find_current(
    conn: &mut PgConnection,
    id: &str,
) -> QueryResult<Option<(PurposeRow, VersionRow)>> {
    purposes::table
        .find(id)
        .inner_join(
            purpose_versions::table.on(purpose_versions::purpose_id
                .eq(purposes::id)
                .and(purpose_versions::version.eq(purposes::current_version))),
        )
        .select((PurposeRow::as_select(), VersionRow::as_select()))
        .first(conn)
        .optional()
}

/// Adds a purpose; 409 when the id is taken.
pub fn insert_purpose(conn: &mut PgConnection, new: &NewPurposeRow<'_>) -> ApiResult<PurposeRow> {
    diesel::insert_into(purposes::table)
        .values(new)
        .returning(PurposeRow::as_returning())
        .get_result(conn)
        .map_err(|error| match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::conflict(format!("a purpose with the id `{}` already exists", new.id))
            }
            other => other.into(),
        })
}

/// A consent event, opened: the receipt of one decision.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: EventId,
    pub subject_id: SubjectId,
    pub purpose_id: String,
    pub status: String,
    pub method: String,
    pub evidence: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub state: Option<String>,
    pub purpose_version: i32,
    pub guardian_subject_id: Option<SubjectId>,
}

/// A consent event as stored: its evidence sealed under the subject's key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consent_events, check_for_backend(Pg))]
pub struct StoredEvent {
    pub id: EventId,
    pub subject_id: SubjectId,
    pub purpose_id: String,
    pub status: String,
    pub method: String,
    pub evidence_enc: Option<Vec<u8>>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub state: Option<String>,
    pub purpose_version: i32,
    pub guardian_subject_id: Option<SubjectId>,
}

/// Where an event's evidence is sealed (`row`: the event id's bytes).
pub fn event_evidence_at(row: &[u8; 16]) -> Place<'_> {
    Place {
        table: "consent_events",
        column: "evidence_enc",
        row,
    }
}

/// Where a flag's evidence is sealed (`row`: [`flag_row`]).
pub fn flag_evidence_at(row: &[u8]) -> Place<'_> {
    Place {
        table: "consents",
        column: "evidence_enc",
        row,
    }
}

/// A flag's row key: the subject id's bytes and the purpose id.
pub fn flag_row(subject_id: SubjectId, purpose_id: &str) -> Vec<u8> {
    let mut row = subject_id.uuid().as_bytes().to_vec();
    row.extend_from_slice(purpose_id.as_bytes());
    row
}

impl StoredEvent {
    /// The event in clear; without the subject's key its evidence is absent.
    pub fn open(self, key: Option<&Cipher>) -> EventRow {
        let row = *self.id.uuid().as_bytes();
        EventRow {
            evidence: key
                .and_then(|k| k.open_text(event_evidence_at(&row), self.evidence_enc.as_deref())),
            id: self.id,
            subject_id: self.subject_id,
            purpose_id: self.purpose_id,
            status: self.status,
            method: self.method,
            actor: self.actor,
            at: self.at,
            request_id: self.request_id,
            state: self.state,
            purpose_version: self.purpose_version,
            guardian_subject_id: self.guardian_subject_id,
        }
    }
}

/// The subject's consent events, newest first: optionally of one purpose, older than `before`,
/// and at most `limit`.
pub fn history(
    conn: &mut PgConnection,
    subject_id: SubjectId,
    purpose: Option<&str>,
    before: Option<EventId>,
    limit: Option<i64>,
) -> ApiResult<Vec<EventRow>> {
    let mut query = consent_events::table
        .filter(consent_events::subject_id.eq(subject_id))
        .select(StoredEvent::as_select())
        .order(consent_events::id.desc())
        .into_boxed();
    if let Some(purpose) = purpose {
        query = query.filter(consent_events::purpose_id.eq(purpose));
    }
    if let Some(before) = before {
        query = query.filter(consent_events::id.lt(before));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    let rows: Vec<StoredEvent> = query.load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let key = crate::at_rest::subject_key(conn, subject_id)?;
    Ok(rows.into_iter().map(|row| row.open(key.as_ref())).collect())
}

/// The ids of an eligibility check, sorted into their three answers.
#[derive(Debug, QueryableByName)]
pub struct Sorted {
    #[diesel(sql_type = Array<SqlUuid>)]
    pub eligible: Vec<SubjectId>,
    #[diesel(sql_type = Array<SqlUuid>)]
    pub not_eligible: Vec<SubjectId>,
    #[diesel(sql_type = Array<SqlUuid>)]
    pub unknown: Vec<SubjectId>,
}

/// One pass over the ids: each is looked up once in `subjects` and in `consents`, and the answer
/// comes back as three arrays in one row rather than one row per id. A flag is eligible when
/// its state (computed here, from its stored times and version, as everywhere) is `given` or
/// `renewed`; `$3` is the answer for `unset`; `$4` is the purpose's material version for an
/// opt-in purpose (grants of earlier versions are invalidated), else 0. A consent row cannot
/// exist without its subject. An erased or restricted subject is never eligible: those few are
/// found in the small partial index `subjects_excluded` (its predicate is repeated in the join
/// so that the planner uses it), so the subjects themselves are still looked up by their
/// primary key alone.
const ELIGIBILITY_SQL: &str = "\
WITH j AS (
  SELECT i.id, s.id IS NOT NULL AS known, x.id IS NULL AND CASE WHEN c.status IS NULL THEN $3 ELSE
    consent_state(c.status, c.ever_granted, c.renewed, c.purpose_version < $4, c.expires_at,
                  c.confirmation_expires_at, now()) IN ('given', 'renewed') END AS ok
  FROM unnest($1::uuid[]) AS i (id)
  LEFT JOIN subjects s ON s.id = i.id
  LEFT JOIN subjects x ON x.id = i.id AND (x.erased_at IS NOT NULL OR x.restriction_ground IS NOT NULL)
  LEFT JOIN consents c ON c.subject_id = i.id AND c.purpose_id = $2)
SELECT coalesce(array_agg(id) FILTER (WHERE known AND ok), '{}') AS eligible,
       coalesce(array_agg(id) FILTER (WHERE known AND NOT ok), '{}') AS not_eligible,
       coalesce(array_agg(id) FILTER (WHERE NOT known), '{}') AS unknown
FROM j";

/// Sorts distinct ids by eligibility for the purpose; `unset_eligible` is the purpose's answer
/// where nothing was recorded, `invalid_below` the version below which grants are invalidated.
pub fn eligibility(
    conn: &mut PgConnection,
    ids: &[SubjectId],
    purpose: &str,
    unset_eligible: bool,
    invalid_below: i32,
) -> QueryResult<Sorted> {
    diesel::sql_query(ELIGIBILITY_SQL)
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Text, _>(purpose)
        .bind::<Bool, _>(unset_eligible)
        .bind::<diesel::sql_types::Int4, _>(invalid_below)
        .get_result(conn)
}
