//! Stored answers sealed like the personal values they hold: under the subject's data key when the
//! answer is about one (so that erasing the subject shreds it too), else under the service key.

use super::key::Key;
use crate::at_rest::{self, Cipher, Place};
use crate::error::ApiResult;
use diesel::PgConnection;

/// Where a stored answer is sealed: the key's row.
fn body_at(key: &Key) -> Place<'_> {
    Place {
        table: "idempotency_keys",
        column: "body_enc",
        row: &key.hash,
    }
}

/// The cipher of a stored answer: the subject's data key when the answer is about one that has
/// a key (so that erasing the subject shreds it too), else the service-secrets key (answers
/// about no subject, and the erasure's own answer, stored once the key is gone).
fn cipher_for(conn: &mut PgConnection, subject: Option<uuid::Uuid>) -> ApiResult<Cipher> {
    if let Some(id) = subject {
        if let Some(key) = at_rest::subject_key(conn, id.into())? {
            return Ok(key);
        }
    }
    at_rest::store::service_cipher(conn, at_rest::store::ServiceKey::Secrets)
}

/// A stored answer holds personal values: sealed like them.
pub(super) fn seal(
    conn: &mut PgConnection,
    key: &Key,
    subject: Option<uuid::Uuid>,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    Ok(cipher_for(conn, subject)?.seal(body_at(key), body))
}

/// A stored answer opened: `None` when it no longer opens (its subject's key destroyed).
pub(super) fn open(
    conn: &mut PgConnection,
    key: &Key,
    subject: Option<uuid::Uuid>,
    sealed: &[u8],
) -> ApiResult<Option<Vec<u8>>> {
    Ok(cipher_for(conn, subject)?
        .open(body_at(key), sealed)
        .map(|plain| plain.to_vec()))
}
