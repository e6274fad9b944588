//! Rotation of the master key: every key wrapped by another master key than the current one is
//! opened (with `DATA_KEY_PREVIOUS`) and wrapped again under `DATA_KEY`, in batches of one
//! transaction each, while the service serves. Each update names the key id it replaces, so a
//! key erased or re-wrapped meanwhile is left alone; running it again continues where it
//! stopped.

use super::keyring::Keyring;
use super::store::{subject_key_place, ServiceKey};
use super::upgrade::in_batches;
use crate::db::schema::{at_rest_keys, subject_keys};
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Uuid as SqlUuid};

/// Keys re-wrapped per transaction.
pub const BATCH: i64 = 1000;

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    pub subject_keys: u64,
    pub service_keys: u64,
}

/// Re-wraps every key not wrapped by `ring.current`; a key that neither master key opens stops
/// the rotation with an error naming how to go on.
pub fn rotate(conn: &mut PgConnection, ring: &Keyring) -> ApiResult<Rotated> {
    let current = ring.current.id.to_vec();
    let mut done = Rotated::default();
    let start = SubjectId::from(uuid::Uuid::nil());
    done.subject_keys = in_batches(
        conn,
        start,
        |conn, after| -> ApiResult<Option<(SubjectId, u64)>> {
            let rows: Vec<(SubjectId, Vec<u8>, Vec<u8>)> = subject_keys::table
                .filter(subject_keys::subject_id.gt(*after))
                .filter(subject_keys::key_id.ne(&current))
                .order(subject_keys::subject_id)
                .limit(BATCH)
                .select((
                    subject_keys::subject_id,
                    subject_keys::key_id,
                    subject_keys::wrapped,
                ))
                .load(conn)?;
            let Some(last) = rows.last().map(|r| r.0) else {
                return Ok(None);
            };
            let (mut ids, mut olds, mut news) = (vec![], vec![], vec![]);
            for (id, key_id, wrapped) in rows {
                let row = *id.uuid().as_bytes();
                let place = subject_key_place(&row);
                let key = ring.unwrap(place, &key_id, &wrapped).ok_or_else(unknown)?;
                news.push(ring.wrap(place, &key).1);
                ids.push(id);
                olds.push(key_id);
            }
            let rewrapped = diesel::sql_query(
                "UPDATE subject_keys k SET key_id = $4, wrapped = v.w \
                 FROM unnest($1::uuid[], $2::bytea[], $3::bytea[]) AS v (s, old, w) \
                 WHERE k.subject_id = v.s AND k.key_id = v.old",
            )
            .bind::<Array<SqlUuid>, _>(ids)
            .bind::<Array<Bytea>, _>(olds)
            .bind::<Array<Bytea>, _>(news)
            .bind::<Bytea, _>(&current)
            .execute(conn)? as u64;
            Ok(Some((last, rewrapped)))
        },
    )?;
    for which in ServiceKey::ALL {
        done.service_keys += conn.transaction(|conn| -> ApiResult<u64> {
            let stored: Option<(Vec<u8>, Vec<u8>)> = at_rest_keys::table
                .find(which.name())
                .filter(at_rest_keys::key_id.ne(&current))
                .select((at_rest_keys::key_id, at_rest_keys::wrapped))
                .for_update()
                .first(conn)
                .optional()?;
            let Some((key_id, wrapped)) = stored else {
                return Ok(0);
            };
            let key = ring
                .unwrap(which.place(), &key_id, &wrapped)
                .ok_or_else(unknown)?;
            let (new_id, new_wrapped) = ring.wrap(which.place(), &key);
            Ok(diesel::update(at_rest_keys::table.find(which.name()))
                .set((
                    at_rest_keys::key_id.eq(new_id),
                    at_rest_keys::wrapped.eq(new_wrapped),
                ))
                .execute(conn)? as u64)
        })?;
    }
    Ok(done)
}

/// How many keys are still wrapped by another master key than `ring.current`.
pub fn remaining(conn: &mut PgConnection, ring: &Keyring) -> QueryResult<i64> {
    let current = ring.current.id.to_vec();
    let subjects: i64 = subject_keys::table
        .filter(subject_keys::key_id.ne(&current))
        .count()
        .get_result(conn)?;
    let service: i64 = at_rest_keys::table
        .filter(at_rest_keys::key_id.ne(&current))
        .count()
        .get_result(conn)?;
    Ok(subjects + service)
}

fn unknown() -> ApiError {
    ApiError::internal(
        "a key opens with neither DATA_KEY nor DATA_KEY_PREVIOUS: set DATA_KEY_PREVIOUS to the \
         master key it was wrapped with",
    )
}
