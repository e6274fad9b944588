//! Authorization and disclosure rows, and the queries that decide what may be disclosed.

use crate::db::schema::{disclosure_authorizations as auths, disclosures, recipients, subjects};
use crate::domain::disclosure::DataCategory;
use crate::domain::ids::{AuthorizationId, DisclosureId, RecipientId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::recipients::model::ACTIVE;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::{BTreeSet, HashSet};

/// A stored disclosure authorization.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auths, check_for_backend(diesel::pg::Pg))]
pub struct AuthorizationRow {
    pub id: AuthorizationId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub legal_basis: String,
    pub consent_evidence: Option<String>,
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
    /// recipient active. [`in_force`] is the same rule in SQL.
    pub fn is_active(&self, recipient_active: bool, now: DateTime<Utc>) -> bool {
        recipient_active
            && self.revoked_at.is_none()
            && self.valid_from <= now
            && self.valid_until.is_none_or(|until| now < until)
    }
}

/// The SQL form of [`AuthorizationRow::is_active`] without the recipient's part: not revoked
/// and within its validity at `now`.
#[diesel::dsl::auto_type]
pub(super) fn in_force(now: DateTime<Utc>) -> _ {
    auths::revoked_at
        .is_null()
        .and(auths::valid_from.le(now))
        .and(auths::valid_until.is_null().or(auths::valid_until.gt(now)))
}

/// An authorization about to be inserted.
#[derive(Debug, Insertable)]
#[diesel(table_name = auths)]
pub struct NewAuthorizationRow {
    pub id: AuthorizationId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub legal_basis: String,
    pub consent_evidence: Option<String>,
    pub legal_reference: Option<String>,
    pub data_categories: Vec<String>,
    pub purpose: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A stored disclosure.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disclosures, check_for_backend(diesel::pg::Pg))]
pub struct DisclosureRow {
    pub id: DisclosureId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub data_categories: Vec<String>,
    pub channel: String,
    pub note: Option<String>,
    pub authorization_ids: Vec<AuthorizationId>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
}

/// A disclosure about to be inserted.
#[derive(Debug, Insertable)]
#[diesel(table_name = disclosures)]
pub struct NewDisclosureRow {
    pub id: DisclosureId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub data_categories: Vec<String>,
    pub channel: String,
    pub note: Option<String>,
    pub authorization_ids: Vec<AuthorizationId>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
}

/// The subject's fields that some category covers; nothing else is ever read for a partner.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subjects, check_for_backend(diesel::pg::Pg))]
pub struct SubjectFields {
    pub given_name: String,
    pub family_name: String,
    pub personal_code: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address_street: Option<String>,
    pub address_city: Option<String>,
    pub address_postal_code: Option<String>,
    pub address_country: Option<String>,
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

/// True when the recipient exists and is active, holding a share lock on it until the
/// transaction ends so that a suspension cannot commit between this check and the disclosure.
fn lock_active_recipient(conn: &mut PgConnection, id: RecipientId) -> ApiResult<bool> {
    let status: Option<String> = recipients::table
        .find(id)
        .select(recipients::status)
        .for_share()
        .first(conn)
        .optional()?;
    Ok(status.as_deref() == Some(ACTIVE))
}

/// Of `ids`, the recipients that exist and are active, each share-locked (in id order) until
/// the transaction ends, like [`lock_active_recipient`] for one.
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

/// Inserts an authorization.
pub fn insert_authorization(conn: &mut PgConnection, row: &NewAuthorizationRow) -> ApiResult<()> {
    diesel::insert_into(auths::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Every authorization of the subject, oldest first, each with whether its recipient is active.
pub fn authorizations_of(
    conn: &mut PgConnection,
    subject: SubjectId,
) -> ApiResult<Vec<(AuthorizationRow, bool)>> {
    let rows: Vec<(AuthorizationRow, String)> = auths::table
        .inner_join(recipients::table)
        .filter(auths::subject_id.eq(subject))
        .order(auths::id)
        .select((AuthorizationRow::as_select(), recipients::status))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, status)| (row, status == ACTIVE))
        .collect())
}

/// One authorization of the subject with whether its recipient is active, or 404.
pub fn authorization(
    conn: &mut PgConnection,
    subject: SubjectId,
    id: AuthorizationId,
) -> ApiResult<(AuthorizationRow, bool)> {
    let (row, status): (AuthorizationRow, String) = auths::table
        .inner_join(recipients::table)
        .filter(auths::subject_id.eq(subject))
        .filter(auths::id.eq(id))
        .select((AuthorizationRow::as_select(), recipients::status))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("disclosure authorization"))?;
    Ok((row, status == ACTIVE))
}

/// Revokes an authorization of the subject: 404 when there is none, 409 when already revoked.
pub fn revoke(
    conn: &mut PgConnection,
    subject: SubjectId,
    id: AuthorizationId,
    reason: &str,
    actor: &str,
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
            auths::revoked_reason.eq(reason),
            auths::revoked_by.eq(actor),
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

/// Inserts a disclosure.
pub fn insert_disclosure(
    conn: &mut PgConnection,
    row: &NewDisclosureRow,
) -> ApiResult<DisclosureRow> {
    Ok(diesel::insert_into(disclosures::table)
        .values(row)
        .returning(DisclosureRow::as_returning())
        .get_result(conn)?)
}

/// Up to `limit + 1` disclosures of the subject after `cursor`, oldest first; all of them
/// without a limit.
pub fn disclosures_of(
    conn: &mut PgConnection,
    subject: SubjectId,
    cursor: Option<DisclosureId>,
    limit: Option<i64>,
) -> ApiResult<Vec<DisclosureRow>> {
    let mut query = disclosures::table
        .filter(disclosures::subject_id.eq(subject))
        .order(disclosures::id)
        .select(DisclosureRow::as_select())
        .into_boxed();
    if let Some(after) = cursor {
        query = query.filter(disclosures::id.gt(after));
    }
    if let Some(limit) = limit {
        query = query.limit(limit + 1);
    }
    Ok(query.load(conn)?)
}

/// The fields of each of `ids` that exists.
pub fn subject_fields_of(
    conn: &mut PgConnection,
    ids: &[SubjectId],
) -> ApiResult<Vec<(SubjectId, SubjectFields)>> {
    Ok(subjects::table
        .filter(subjects::id.eq_any(ids))
        .select((subjects::id, SubjectFields::as_select()))
        .load(conn)?)
}

/// Of `ids`, the subjects whose data may be disclosed at all (neither erased nor restricted),
/// each key-share locked in id order until the transaction ends: taken before any other lock of
/// a disclosure, so that it and an erasure or restriction of the subject never interleave.
pub fn lock_releasable_subjects(
    conn: &mut PgConnection,
    ids: impl Iterator<Item = SubjectId>,
) -> ApiResult<HashSet<SubjectId>> {
    let mut ids: Vec<SubjectId> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(SubjectId, Option<DateTime<Utc>>, Option<String>)> = subjects::table
        .filter(subjects::id.eq_any(&ids))
        .order(subjects::id)
        .select((
            subjects::id,
            subjects::erased_at,
            subjects::restriction_ground,
        ))
        .for_key_share()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, erased, restricted)| erased.is_none() && restricted.is_none())
        .map(|(id, _, _)| id)
        .collect())
}

/// Up to `limit + 1` ids, after `cursor`, of the subjects whose data the recipient may receive
/// at `now` (erased and restricted subjects are left out); `None` when the recipient is
/// suspended or unknown.
pub fn receivable_subjects(
    conn: &mut PgConnection,
    recipient: RecipientId,
    now: DateTime<Utc>,
    cursor: Option<SubjectId>,
    limit: i64,
) -> ApiResult<Option<Vec<SubjectId>>> {
    if !lock_active_recipient(conn, recipient)? {
        return Ok(None);
    }
    let mut query = auths::table
        .inner_join(subjects::table)
        .filter(auths::recipient_id.eq(recipient))
        .filter(in_force(now))
        .filter(subjects::erased_at.is_null())
        .filter(subjects::restriction_ground.is_null())
        .select(auths::subject_id)
        .distinct()
        .order(auths::subject_id)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = cursor {
        query = query.filter(auths::subject_id.gt(after));
    }
    Ok(Some(query.load(conn)?))
}
