//! Personal data at rest: every personal value is stored encrypted under its subject's own data
//! key, so that destroying that key (erasure) makes every copy of it unreadable, in the subject
//! row, in the append-only history tables and in stored answers alike.
//!
//! Key hierarchy:
//! - the master key (`DATA_KEY`, during a rotation also `DATA_KEY_PREVIOUS`) never reaches the
//!   database; it wraps every key below it ([`keyring`]);
//! - one data key per subject, random, in `subject_keys` wrapped by the master key
//!   ([`store`]); it seals the subject's values with AES-256-GCM ([`cipher`]), each bound to its
//!   table, column and row as associated data;
//! - the service keys in `at_rest_keys`, wrapped by the master key: the blind-index key
//!   ([`blind`]) and the service-secrets key ([`service`]).
//!
//! For other modules:
//! - `at_rest::shred_subject(conn, subject_id) -> QueryResult<()>` (erasure, in its transaction):
//!   deletes the data key, empties the subject row's ciphertexts and blind indexes.
//! - `at_rest::seal_service_secret(conn, purpose, row, plaintext) -> ApiResult<Vec<u8>>` and
//!   `at_rest::open_service_secret(conn, purpose, row, sealed) -> ApiResult<Option<Zeroizing<Vec<u8>>>>`:
//!   a secret of the service (a webhook's signing secret) sealed for a purpose such as
//!   `"webhooks.secret"` and the row it belongs to (its id's bytes). Store the result as
//!   `bytea`; a rotation of the master key needs nothing from you.
//! - Personal values of a new table: seal them with the subject's key
//!   ([`store::subject_key`] / [`store::open_subject_key`]) and a [`Place`] naming table, column
//!   and row; list the table in the `pg_dump` test.
//!
//! Upgrading a database of the first version ([`upgrade`]) and rotating the master key
//! ([`rotate`]) work in batches while the service serves.

pub mod blind;
pub mod cipher;
pub mod keyring;
pub mod rotate;
pub mod service;
pub mod shred;
pub mod store;
pub mod upgrade;

pub use blind::{blind_index, Indexed};
pub use cipher::{Cipher, Place};
pub use keyring::{install, KeySettings, Keyring};
pub use service::{open_service_secret, seal_service_secret};
pub use shred::{shred_subject, shred_subject_at, shred_subjects_at};
pub use store::{open_subject_key, subject_key, Wrapped};
