//! The state of a flag, computed when read from the stored timestamps and versions by the
//! database's `consent_state` (one definition for every path: flags, eligibility, exports,
//! authorizations). No job moves a flag from state to state.

use crate::domain::consent::Basis;
use crate::domain::consent_state::ConsentState;
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};

/// The state of flag `c` of purpose `p` now, as SQL.
pub const STATE_OF_C: &str = "consent_state(c.status, c.ever_granted, c.renewed, \
     p.basis = 'opt_in' AND c.purpose_version < p.material_version, \
     c.expires_at, c.confirmation_expires_at, now())";

/// One purpose and the subject's flag of it, its state computed.
#[derive(Debug, Clone, QueryableByName)]
pub struct FlagRow {
    #[diesel(sql_type = Text)]
    pub purpose: String,
    #[diesel(sql_type = Text)]
    pub basis: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub status: Option<String>,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Nullable<Int4>)]
    pub purpose_version: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub given_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub confirmation_expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub guardian_subject_id: Option<SubjectId>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The columns of a [`FlagRow`] over `purposes p LEFT JOIN consents c`.
pub fn flag_columns() -> String {
    format!(
        "p.id AS purpose, p.basis, c.status, {STATE_OF_C} AS state, c.purpose_version, \
         c.given_at, c.expires_at, c.confirmation_expires_at, c.guardian_subject_id, c.updated_at"
    )
}

/// The subject's flag of every purpose, oldest purpose first.
pub fn flags_of(conn: &mut PgConnection, subject_id: SubjectId) -> QueryResult<Vec<FlagRow>> {
    diesel::sql_query(format!(
        "SELECT {} FROM purposes p \
         LEFT JOIN consents c ON c.purpose_id = p.id AND c.subject_id = $1 \
         ORDER BY p.created_at, p.id",
        flag_columns()
    ))
    .bind::<SqlUuid, _>(subject_id)
    .load(conn)
}

impl FlagRow {
    /// The state and whether it lets the person be contacted.
    pub fn judged(&self) -> ApiResult<(ConsentState, bool)> {
        let state = ConsentState::from_db(&self.state)?;
        Ok((state, state.eligible(Basis::from_db(&self.basis)?)))
    }
}
