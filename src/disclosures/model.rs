//! Authorization and disclosure rows, and the queries that decide what may be disclosed.

use crate::at_rest::{self, Cipher, Place};
use crate::db::schema::{disclosure_authorizations as auths, recipients, subject_keys};
use crate::domain::disclosure::DataCategory;
use crate::domain::ids::{AuthorizationId, RecipientId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::recipients::model::ACTIVE;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::BTreeSet;

mod active;
mod ledger;
mod release;
pub(super) use active::in_force;
use active::{followed_state_sql, lock_active_recipient};

/// The state of the consent an authorization follows, as a selectable column.
fn followed_state(
) -> diesel::expression::SqlLiteral<diesel::sql_types::Nullable<diesel::sql_types::Text>> {
    diesel::dsl::sql(&followed_state_sql())
}
pub use ledger::*;
pub use release::*;

/// A stored disclosure authorization (its consent evidence sealed under the subject's key).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auths, check_for_backend(diesel::pg::Pg))]
pub struct AuthorizationRow {
    pub id: AuthorizationId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub legal_basis: String,
    pub consent_evidence_enc: Option<Vec<u8>>,
    /// The opt-in purpose whose consent flag the authorization follows.
    pub consent_purpose: Option<String>,
    pub legal_reference: Option<String>,
    pub data_categories: Vec<String>,
    pub purpose: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub revoked_by: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl AuthorizationRow {
    /// Whether it permits disclosure at `now`: not revoked, within its validity, and its
    /// recipient active. `in_force` is the same rule in SQL.
    pub fn is_active(&self, recipient_active: bool, now: DateTime<Utc>) -> bool {
        recipient_active
            && self.revoked_at.is_none()
            && self.valid_from <= now
            && self.valid_until.is_none_or(|until| now < until)
    }
}

/// An authorization with what an answer shows of it: its recipient's status and its evidence
/// opened.
#[derive(Debug, Clone)]
pub struct OpenedAuthorization {
    pub row: AuthorizationRow,
    pub recipient_active: bool,
    /// The state, computed now, of the consent flag it follows (`None`: it follows none).
    pub consent_state: Option<String>,
    pub consent_evidence: Option<String>,
}

/// Where an authorization's consent evidence is sealed (`row`: its id's bytes).
pub fn evidence_at(row: &[u8; 16]) -> Place<'_> {
    Place {
        table: "disclosure_authorizations",
        column: "consent_evidence_enc",
        row,
    }
}

fn opened(
    (row, status, consent_state): (AuthorizationRow, String, Option<String>),
    key: Option<&Cipher>,
) -> OpenedAuthorization {
    let place = *row.id.uuid().as_bytes();
    OpenedAuthorization {
        consent_state,
        consent_evidence: key
            .and_then(|k| k.open_text(evidence_at(&place), row.consent_evidence_enc.as_deref())),
        recipient_active: status == ACTIVE,
        row,
    }
}

/// An authorization about to be inserted (its evidence goes apart, to be sealed).
#[derive(Debug, Insertable)]
#[diesel(table_name = auths)]
pub struct NewAuthorizationRow {
    pub id: AuthorizationId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub legal_basis: String,
    pub legal_reference: Option<String>,
    pub data_categories: Vec<String>,
    pub purpose: String,
    pub consent_purpose: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The request that granted it: its entry's request id.
    pub request_id: Option<String>,
}

/// Why, by whom and in which request an authorization is revoked.
pub struct Revocation<'a> {
    pub reason: &'a str,
    pub actor: &'a str,
    /// Its entry's request id, kept so that the entry can be withheld with a disclosure.
    pub request_id: &'a str,
}

/// 400 naming `recipient_id` unless the recipient exists.
pub fn require_recipient(conn: &mut PgConnection, id: RecipientId) -> ApiResult<()> {
    recipients::table
        .find(id)
        .select(recipients::id)
        .first::<RecipientId>(conn)
        .optional()?
        .map(|_| ())
        .ok_or_else(|| ApiError::invalid_field("recipient_id", "no recipient has this id"))
}

/// 400 naming `consent_purpose` unless it is an opt-in purpose.
pub fn require_opt_in_purpose(conn: &mut PgConnection, id: &str) -> ApiResult<()> {
    let basis: Option<String> = crate::db::schema::purposes::table
        .find(id)
        .select(crate::db::schema::purposes::basis)
        .first(conn)
        .optional()?;
    match basis.as_deref() {
        Some("opt_in") => Ok(()),
        Some(_) => Err(ApiError::invalid_field(
            "consent_purpose",
            "must be an opt-in purpose",
        )),
        None => Err(ApiError::invalid_field(
            "consent_purpose",
            "no purpose has this id",
        )),
    }
}

/// Of `ids`, the recipients that exist and are active, each share-locked (in id order) until
/// the transaction ends, like `lock_active_recipient` for one.
pub fn lock_active_recipients(
    conn: &mut PgConnection,
    ids: &[RecipientId],
) -> ApiResult<Vec<RecipientId>> {
    Ok(recipients::table
        .filter(recipients::id.eq_any(ids))
        .filter(recipients::status.eq(ACTIVE))
        .order(recipients::id)
        .select(recipients::id)
        .for_share()
        .load(conn)?)
}

/// Inserts an authorization, its consent evidence sealed under the subject's key.
pub fn insert_authorization(
    conn: &mut PgConnection,
    row: &NewAuthorizationRow,
    consent_evidence: Option<&str>,
) -> ApiResult<()> {
    let key = at_rest::subject_key(conn, row.subject_id)?;
    let place = *row.id.uuid().as_bytes();
    let sealed = key
        .as_ref()
        .and_then(|k| k.seal_text(evidence_at(&place), consent_evidence));
    diesel::insert_into(auths::table)
        .values((row, auths::consent_evidence_enc.eq(sealed)))
        .execute(conn)?;
    Ok(())
}

/// Every authorization of the subject, oldest first, opened, each with whether its recipient is
/// active.
pub fn authorizations_of(
    conn: &mut PgConnection,
    subject: SubjectId,
) -> ApiResult<Vec<OpenedAuthorization>> {
    let rows: Vec<(AuthorizationRow, String, Option<String>)> = auths::table
        .inner_join(recipients::table)
        .filter(auths::subject_id.eq(subject))
        .order(auths::id)
        .select((
            AuthorizationRow::as_select(),
            recipients::status,
            followed_state(),
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let key = at_rest::subject_key(conn, subject)?;
    Ok(rows
        .into_iter()
        .map(|row| opened(row, key.as_ref()))
        .collect())
}

/// One authorization of the subject, opened, with whether its recipient is active, or 404.
pub fn authorization(
    conn: &mut PgConnection,
    subject: SubjectId,
    id: AuthorizationId,
) -> ApiResult<OpenedAuthorization> {
    type Found = (
        AuthorizationRow,
        String,
        Option<String>,
        Option<at_rest::Wrapped>,
    );
    let (row, status, state, wrapped): Found = auths::table
        .inner_join(recipients::table)
        .left_join(subject_keys::table.on(subject_keys::subject_id.eq(auths::subject_id)))
        .filter(auths::subject_id.eq(subject))
        .filter(auths::id.eq(id))
        .select((
            AuthorizationRow::as_select(),
            recipients::status,
            followed_state(),
            (subject_keys::key_id, subject_keys::wrapped).nullable(),
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("disclosure authorization"))?;
    let key = at_rest::open_subject_key(subject, wrapped.as_ref())?;
    Ok(opened((row, status, state), key.as_ref()))
}

/// Revokes an authorization of the subject: 404 when there is none, 409 when already revoked.
pub fn revoke(
    conn: &mut PgConnection,
    subject: SubjectId,
    id: AuthorizationId,
    revocation: Revocation<'_>,
    now: DateTime<Utc>,
) -> ApiResult<AuthorizationRow> {
    let revoked_at: Option<DateTime<Utc>> = auths::table
        .filter(auths::subject_id.eq(subject))
        .filter(auths::id.eq(id))
        .select(auths::revoked_at)
        .for_no_key_update()
        .first::<Option<DateTime<Utc>>>(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("disclosure authorization"))?;
    if revoked_at.is_some() {
        return Err(ApiError::conflict("the authorization is already revoked"));
    }
    Ok(diesel::update(auths::table.find(id))
        .set((
            auths::revoked_at.eq(now),
            auths::revoked_reason.eq(revocation.reason),
            auths::revoked_by.eq(revocation.actor),
            auths::revoked_request_id.eq(revocation.request_id),
        ))
        .returning(AuthorizationRow::as_returning())
        .get_result(conn)?)
}

/// The authorizations that permit disclosing the subject's data to the recipient at `now`
/// (none when the recipient is suspended or unknown). They and the recipient stay share-locked
/// until the transaction ends, so a revocation or suspension waits for a disclosure decided on
/// them to commit, and takes effect for every later one.
pub fn active_grants(
    conn: &mut PgConnection,
    subject: SubjectId,
    recipient: RecipientId,
    now: DateTime<Utc>,
) -> ApiResult<Vec<AuthorizationRow>> {
    if !lock_active_recipient(conn, recipient)? {
        return Ok(Vec::new());
    }
    Ok(auths::table
        .filter(auths::subject_id.eq(subject))
        .filter(auths::recipient_id.eq(recipient))
        .filter(in_force(now))
        .order(auths::id)
        .select(AuthorizationRow::as_select())
        .for_share()
        .load(conn)?)
}

/// Every category the grants cover together.
pub fn covered(grants: &[AuthorizationRow]) -> ApiResult<BTreeSet<DataCategory>> {
    let mut covered = BTreeSet::new();
    for grant in grants {
        covered.extend(DataCategory::from_db_all(&grant.data_categories)?);
    }
    Ok(covered)
}

/// The grants that contribute any of `wanted`: the authorizations a disclosure of `wanted` uses.
pub fn used_for(
    grants: &[AuthorizationRow],
    wanted: &BTreeSet<DataCategory>,
) -> ApiResult<Vec<AuthorizationId>> {
    let mut used = Vec::new();
    for grant in grants {
        let categories = DataCategory::from_db_all(&grant.data_categories)?;
        if categories.iter().any(|c| wanted.contains(c)) {
            used.push(grant.id);
        }
    }
    Ok(used)
}

/// Whether entry `a` is about disclosure `d`: written by the request that recorded it or by one
/// that changed its withholding (a literal, so that the constants below can be built from it).
macro_rules! recorded_by_a {
    () => {
        "(d.request_id = a.request_id OR a.request_id = ANY (d.withholding_request_ids))"
    };
}

/// Whether entry `a` is about disclosure `d` (see the `recorded_by_a` macro), as SQL.
pub const RECORDED_BY_A: &str = recorded_by_a!();

/// The recipient an entry `a` about subject `$1` concerns besides its own `recipient_id`: the
/// recipient of a staff disclosure record, found by the request that recorded it (or changed its
/// withholding), as SQL.
pub const RECORDED_RECIPIENT_OF_A: &str = concat!(
    "CASE WHEN a.action = 'disclosure.record' THEN \
     (SELECT d.recipient_id FROM disclosures d WHERE d.subject_id = $1 AND ",
    recorded_by_a!(),
    " LIMIT 1) END"
);
