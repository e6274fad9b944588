//! Where the keys below the master key are kept: each subject's data key in `subject_keys`, the
//! service's own keys (blind index, service secrets) in `at_rest_keys`, all wrapped by the
//! master key and bound to their row, so that a wrapped key copied to another subject does not
//! open.

pub use super::cipher::random_key as new_key;
use super::cipher::{random_key, Cipher, KeyBytes, Place};
use super::keyring::{self, Keyring};
use crate::db::schema::{at_rest_keys, subject_keys};
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use std::sync::OnceLock;

/// The installed keyring, or an internal error (start-up installs it before serving).
pub fn keyring() -> ApiResult<&'static Keyring> {
    keyring::installed().ok_or_else(|| ApiError::internal("no DATA_KEY installed"))
}

/// The place of a subject's wrapped data key (`row`: the subject id's bytes).
pub fn subject_key_place(row: &[u8; 16]) -> Place<'_> {
    Place {
        table: "subject_keys",
        column: "wrapped",
        row,
    }
}

/// A subject's data key as stored: `(key id, wrapped)`, what a read selects beside the row.
pub type Wrapped = (Vec<u8>, Vec<u8>);

/// Opens a subject's stored data key; `None` when there is none (the subject was erased) or it
/// does not open (logged: it means a master key is missing).
pub fn open_subject_key(id: SubjectId, stored: Option<&Wrapped>) -> ApiResult<Option<Cipher>> {
    let Some((key_id, wrapped)) = stored else {
        return Ok(None);
    };
    let ring = keyring()?;
    let row = *id.uuid().as_bytes();
    match ring.unwrap(subject_key_place(&row), key_id, wrapped) {
        Some(bytes) => Ok(Some(Cipher::new(&bytes))),
        None => {
            log::error!(
                "the data key of subject {id} opens with neither DATA_KEY nor DATA_KEY_PREVIOUS"
            );
            Err(ApiError::internal("a data key that no master key opens"))
        }
    }
}

/// The subject's data key, read on its own (paths that do not read the subject row).
pub fn subject_key(conn: &mut PgConnection, id: SubjectId) -> ApiResult<Option<Cipher>> {
    let stored: Option<Wrapped> = subject_keys::table
        .find(id)
        .select((subject_keys::key_id, subject_keys::wrapped))
        .first(conn)
        .optional()?;
    open_subject_key(id, stored.as_ref())
}

/// Makes and stores a new data key for a subject whose row exists (in the caller's transaction).
pub fn create_subject_key(conn: &mut PgConnection, id: SubjectId) -> ApiResult<Cipher> {
    let key = random_key();
    store_subject_key(conn, id, &key)?;
    Ok(Cipher::new(&key))
}

/// Stores `key` as the subject's data key, wrapped by the current master key.
pub fn store_subject_key(conn: &mut PgConnection, id: SubjectId, key: &[u8; 32]) -> ApiResult<()> {
    let row = *id.uuid().as_bytes();
    let (key_id, wrapped) = keyring()?.wrap(subject_key_place(&row), key);
    diesel::insert_into(subject_keys::table)
        .values((
            subject_keys::subject_id.eq(id),
            subject_keys::key_id.eq(key_id),
            subject_keys::wrapped.eq(wrapped),
        ))
        .execute(conn)?;
    Ok(())
}

/// The service's own keys, one row each in `at_rest_keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKey {
    /// The HMAC key of the blind indexes.
    BlindIndex,
    /// The key of service secrets (webhook secrets) and of stored answers about no subject.
    Secrets,
}

impl ServiceKey {
    /// Every service key.
    pub const ALL: [ServiceKey; 2] = [ServiceKey::BlindIndex, ServiceKey::Secrets];

    /// Its row's name.
    pub fn name(self) -> &'static str {
        match self {
            ServiceKey::BlindIndex => "blind-index",
            ServiceKey::Secrets => "service-secrets",
        }
    }

    /// The place of its wrapped form.
    pub fn place(self) -> Place<'static> {
        Place {
            table: "at_rest_keys",
            column: "wrapped",
            row: self.name().as_bytes(),
        }
    }

    fn cache(self) -> &'static OnceLock<KeyBytes> {
        static BLIND: OnceLock<KeyBytes> = OnceLock::new();
        static SECRETS: OnceLock<KeyBytes> = OnceLock::new();
        match self {
            ServiceKey::BlindIndex => &BLIND,
            ServiceKey::Secrets => &SECRETS,
        }
    }
}

/// A service key's bytes. Loaded once per process from the database (made there by the first
/// instance that needs it), then kept: it never changes, a rotation only re-wraps it.
pub fn service_key(conn: &mut PgConnection, which: ServiceKey) -> ApiResult<&'static KeyBytes> {
    if let Some(key) = which.cache().get() {
        return Ok(key);
    }
    let ring = keyring()?;
    store_if_missing(conn, ring, which, &random_key())?;
    let (key_id, wrapped): Wrapped = at_rest_keys::table
        .find(which.name())
        .select((at_rest_keys::key_id, at_rest_keys::wrapped))
        .first(conn)?;
    let bytes = ring
        .unwrap(which.place(), &key_id, &wrapped)
        .ok_or_else(|| {
            log::error!(
                "the {} key opens with neither DATA_KEY nor DATA_KEY_PREVIOUS",
                which.name()
            );
            ApiError::internal("a service key that no master key opens")
        })?;
    Ok(which.cache().get_or_init(|| bytes))
}

fn store_if_missing(
    conn: &mut PgConnection,
    ring: &Keyring,
    which: ServiceKey,
    key: &[u8; 32],
) -> QueryResult<()> {
    let (key_id, wrapped) = ring.wrap(which.place(), key);
    diesel::insert_into(at_rest_keys::table)
        .values((
            at_rest_keys::name.eq(which.name()),
            at_rest_keys::key_id.eq(key_id),
            at_rest_keys::wrapped.eq(wrapped),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|_| ())
}

/// After migrations: makes sure the database holds the service keys. A process that already
/// holds them (one that migrates several databases, like the test suite) stores the same ones,
/// so what it computed stays valid everywhere. Without a keyring nothing is done: the first
/// instance to serve makes them.
pub fn ensure_service_keys(conn: &mut PgConnection) -> ApiResult<()> {
    let Some(ring) = keyring::installed() else {
        return Ok(());
    };
    for which in ServiceKey::ALL {
        match which.cache().get() {
            Some(bytes) => store_if_missing(conn, ring, which, bytes)?,
            None => {
                service_key(conn, which)?;
            }
        }
    }
    Ok(())
}

/// The cipher of a service key.
pub fn service_cipher(conn: &mut PgConnection, which: ServiceKey) -> ApiResult<Cipher> {
    Ok(Cipher::new(service_key(conn, which)?))
}
