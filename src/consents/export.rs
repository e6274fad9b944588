//! Consent lists for compliance scripts: every stored flag with its state computed now
//! (`GET /v1/consents`, paged or streamed as NDJSON or CSV), and the grants about to expire
//! (`GET /v1/consents/expiring`). Erased subjects are never listed.

use super::state::STATE_OF_C;
use crate::domain::consent_state::ConsentState;
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use std::str::FromStr;
use utoipa::ToSchema;

/// A flag as the export lists it.
#[derive(Debug, Clone, Serialize, QueryableByName, ToSchema)]
pub struct ExportedFlag {
    #[diesel(sql_type = SqlUuid)]
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    #[diesel(sql_type = Text)]
    pub purpose: String,
    /// v1's last decision: `granted` or `withdrawn`.
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    #[schema(value_type = ConsentState)]
    pub state: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub eligible: bool,
    #[diesel(sql_type = Int4)]
    pub purpose_version: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub given_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    /// The keyset position of the flag's purpose in the export's purpose list.
    #[diesel(sql_type = Int4)]
    #[serde(skip)]
    pub ordinal: i32,
}

/// The position after a flag: its subject and its purpose's place in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position(pub SubjectId, pub i32);

impl FromStr for Position {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (subject, ordinal) = text.split_once('/').ok_or(())?;
        Ok(Self(
            subject.parse().map_err(|_| ())?,
            ordinal.parse().map_err(|_| ())?,
        ))
    }
}

impl ExportedFlag {
    /// The keyset position after this flag.
    pub fn position(&self) -> Position {
        Position(self.subject_id, self.ordinal)
    }

    /// The cursor text of [`Self::position`].
    pub fn cursor(&self) -> String {
        format!("{}/{}", self.subject_id, self.ordinal)
    }
}

/// What the export lists: every purpose (or one), every state (or one).
#[derive(Debug, Clone)]
pub struct Filter {
    /// The purposes listed, sorted: a flag's ordinal is its purpose's place here (from 1).
    pub purposes: Vec<String>,
    pub state: Option<ConsentState>,
}

/// Up to `limit` flags after `after`, in (subject, purpose) order.
pub fn page(
    conn: &mut PgConnection,
    filter: &Filter,
    after: Option<Position>,
    limit: i64,
) -> ApiResult<Vec<ExportedFlag>> {
    let (subject, ordinal) = after.map_or((None, 0), |p| (Some(p.0), p.1));
    let sql = format!(
        "SELECT * FROM (
           SELECT c.subject_id, c.purpose_id AS purpose, c.status, {STATE_OF_C} AS state,
                  c.purpose_version, c.given_at, c.expires_at, c.updated_at,
                  array_position($1::text[], c.purpose_id) AS ordinal, p.basis
           FROM consents c
           JOIN purposes p ON p.id = c.purpose_id
           JOIN subjects s ON s.id = c.subject_id AND s.erased_at IS NULL
           WHERE c.purpose_id = ANY($1)
             AND ($2::uuid IS NULL OR c.subject_id >= $2)
         ) f
         WHERE ($2::uuid IS NULL OR (f.subject_id, f.ordinal) > ($2, $3))
           AND ($4::text IS NULL OR f.state = $4)
         ORDER BY f.subject_id, f.ordinal
         LIMIT $5"
    );
    let rows: Vec<Raw> = diesel::sql_query(sql)
        .bind::<Array<Text>, _>(&filter.purposes)
        .bind::<Nullable<SqlUuid>, _>(subject)
        .bind::<Int4, _>(ordinal)
        .bind::<Nullable<Text>, _>(filter.state.map(ConsentState::as_str))
        .bind::<Int8, _>(limit)
        .load(conn)?;
    rows.into_iter().map(Raw::judged).collect()
}

/// A row before its eligibility is judged from its state and basis.
#[derive(QueryableByName)]
struct Raw {
    #[diesel(sql_type = SqlUuid)]
    subject_id: SubjectId,
    #[diesel(sql_type = Text)]
    purpose: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Int4)]
    purpose_version: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    given_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    ordinal: i32,
    #[diesel(sql_type = Text)]
    basis: String,
}

impl Raw {
    fn judged(self) -> ApiResult<ExportedFlag> {
        let state = ConsentState::from_db(&self.state)?;
        let basis = crate::domain::consent::Basis::from_db(&self.basis)?;
        Ok(ExportedFlag {
            eligible: state.eligible(basis),
            subject_id: self.subject_id,
            purpose: self.purpose,
            status: self.status,
            state: self.state,
            purpose_version: self.purpose_version,
            given_at: self.given_at,
            expires_at: self.expires_at,
            updated_at: self.updated_at,
            ordinal: self.ordinal,
        })
    }
}

/// A grant in force that expires soon.
#[derive(Debug, Serialize, QueryableByName, ToSchema)]
pub struct Expiring {
    #[diesel(sql_type = SqlUuid)]
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    #[diesel(sql_type = Text)]
    pub purpose: String,
    /// `given` or `renewed`.
    #[diesel(sql_type = Text)]
    #[schema(value_type = ConsentState)]
    pub state: String,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
}

/// Up to `limit` grants in force (`given`, `renewed`) that expire at or before `before`, after
/// the position `after`, in (subject, purpose) order.
pub fn expiring(
    conn: &mut PgConnection,
    purpose: Option<&str>,
    before: DateTime<Utc>,
    after: Option<(SubjectId, String)>,
    limit: i64,
) -> ApiResult<Vec<Expiring>> {
    let (subject, after_purpose) = after.map_or((None, String::new()), |(s, p)| (Some(s), p));
    let sql = format!(
        "SELECT c.subject_id, c.purpose_id AS purpose, {STATE_OF_C} AS state, c.expires_at
         FROM consents c
         JOIN purposes p ON p.id = c.purpose_id
         JOIN subjects s ON s.id = c.subject_id AND s.erased_at IS NULL
         WHERE c.expires_at IS NOT NULL AND c.expires_at <= $1
           AND ($2::text IS NULL OR c.purpose_id = $2)
           AND ($3::uuid IS NULL OR (c.subject_id, c.purpose_id) > ($3, $4))
           AND {STATE_OF_C} IN ('given', 'renewed')
         ORDER BY c.subject_id, c.purpose_id
         LIMIT $5"
    );
    Ok(diesel::sql_query(sql)
        .bind::<Timestamptz, _>(before)
        .bind::<Nullable<Text>, _>(purpose)
        .bind::<Nullable<SqlUuid>, _>(subject)
        .bind::<Text, _>(after_purpose)
        .bind::<Int8, _>(limit)
        .load(conn)?)
}
