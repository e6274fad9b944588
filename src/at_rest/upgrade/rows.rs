//! What the upgrade's batches share: the keyset loop, the sealed columns' parameters and the
//! subject's key as every select joins it.

use crate::at_rest::cipher::Cipher;
use crate::at_rest::store;
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Nullable};

/// Rows sealed per transaction.
pub const BATCH: i64 = 2000;

/// A subject's data key as every select of the upgrade joins it (`k.key_id, k.wrapped` from
/// `subject_keys`): both `NULL` while the subject has none yet.
#[derive(QueryableByName)]
pub struct StoredKey {
    #[diesel(sql_type = Nullable<Bytea>)]
    pub key_id: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub wrapped: Option<Vec<u8>>,
}

impl StoredKey {
    pub fn pair(self) -> Option<(Vec<u8>, Vec<u8>)> {
        self.key_id.zip(self.wrapped)
    }
}

/// Runs `batch` from the keyset position `start`, one transaction per batch, until it finds
/// nothing: each batch answers its last key and how many rows it did. A run cut short resumes,
/// since done rows no longer match.
pub fn in_batches<K>(
    conn: &mut PgConnection,
    start: K,
    mut batch: impl FnMut(&mut PgConnection, &K) -> ApiResult<Option<(K, u64)>>,
) -> ApiResult<u64> {
    let mut after = start;
    let mut total = 0;
    while let Some((last, done)) = conn.transaction(|conn| batch(conn, &after))? {
        after = last;
        total += done;
    }
    Ok(total)
}

/// `$2::bytea[], …`: the parameters of `n` sealed columns after the ids (`$1`).
pub fn sealed_params(n: usize) -> String {
    (0..n)
        .map(|i| format!("${}::bytea[]", i + 2))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `e0, e1, …`: their names in the `unnest`.
pub fn sealed_names(n: usize) -> String {
    (0..n)
        .map(|i| format!("e{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The subject's key, made now when it has none yet; `None` for an erased subject, whose values
/// are not sealed but dropped (erasure meant them gone).
pub fn key_of(
    conn: &mut PgConnection,
    id: SubjectId,
    erased: bool,
    key: StoredKey,
) -> ApiResult<Option<Cipher>> {
    if erased {
        return Ok(None);
    }
    let stored = key.pair();
    match store::open_subject_key(id, stored.as_ref())? {
        Some(key) => Ok(Some(key)),
        None => store::create_subject_key(conn, id).map(Some),
    }
}
