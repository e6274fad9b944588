//! Crypto-shredding: erasure destroys the subject's data key, so every value it sealed (in the
//! subject row, in the append-only history tables and in stored answers) can no longer be read,
//! while the rows themselves, their ids and the access log stay.

use crate::domain::ids::SubjectId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Timestamptz, Uuid as SqlUuid};

/// Deletes the subject's data key and empties the subject row's ciphertexts, blind indexes (which
/// frees its personal code) and preferred language, in the caller's transaction. Sets
/// `erased_at` unless the caller already has, in the same statement: the table's checks want an
/// erased row empty and an emptied third-party row erased.
pub fn shred_subject(conn: &mut PgConnection, id: SubjectId) -> QueryResult<()> {
    shred_subject_at(conn, id, None)
}

/// `shred_subject`, marking the row erased and updated at `at` when given (an erasure's own
/// time). One statement, key and row together: an erasure is mostly round trips.
pub fn shred_subject_at(
    conn: &mut PgConnection,
    id: SubjectId,
    at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    shred_subjects_at(conn, &[id], at)
}

/// `shred_subject_at` for many subjects with one statement (a retention batch).
pub fn shred_subjects_at(
    conn: &mut PgConnection,
    ids: &[SubjectId],
    at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    diesel::sql_query(
        "WITH k AS (DELETE FROM subject_keys WHERE subject_id = ANY($1)) \
         UPDATE subjects SET given_name_enc = NULL, family_name_enc = NULL, \
           personal_code_enc = NULL, email_enc = NULL, phone_enc = NULL, \
           address_street_enc = NULL, address_city_enc = NULL, address_postal_code_enc = NULL, \
           address_country_enc = NULL, source_name_enc = NULL, source_reference_enc = NULL, \
           source_collected_at_enc = NULL, source_attestation_enc = NULL, \
           personal_code_bidx = NULL, email_bidx = NULL, preferred_language = NULL, \
           erased_at = coalesce(erased_at, $2, now()), updated_at = coalesce($2, updated_at) \
         WHERE id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Nullable<Timestamptz>, _>(at)
    .execute(conn)?;
    Ok(())
}
