//! What a partner read may release of a subject: its covered fields, and the subjects a batch may release.

use super::active::{in_force, lock_active_recipient};
use crate::db::schema::{disclosure_authorizations as auths, subjects};
use crate::domain::ids::{RecipientId, SubjectId};
use crate::error::ApiResult;
use crate::subjects::model::Keyed;
use crate::subjects::standing::Standing;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::HashSet;

/// The subject's fields that some category covers; nothing else is ever released to a partner.
#[derive(Debug, Clone)]
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

/// Each of `ids` that exists, still sealed with its wrapped key (the partner read's batch fetch;
/// the request opens its own with [`fields_of`]).
pub fn subjects_sealed(conn: &mut PgConnection, ids: &[SubjectId]) -> ApiResult<Vec<Keyed>> {
    crate::subjects::model::find_many_sealed(conn, ids)
}

/// The fields a partner may receive of a fetched subject, opened.
pub fn fields_of(sealed: Keyed) -> ApiResult<SubjectFields> {
    let d = crate::subjects::model::open_keyed(sealed)?.0.data;
    Ok(SubjectFields {
        given_name: d.given_name,
        family_name: d.family_name,
        personal_code: d.personal_code,
        email: d.email,
        phone: d.phone,
        address_street: d.address_street,
        address_city: d.address_city,
        address_postal_code: d.address_postal_code,
        address_country: d.address_country,
    })
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
    let mut releasable = HashSet::new();
    for (id, erased_at, ground) in rows {
        if Standing::of(Some((erased_at, ground.as_deref())))?.may_disclose() {
            releasable.insert(id);
        }
    }
    Ok(releasable)
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
