//! Crypto-shredding: erasure destroys the subject's data key, so every value it sealed (in the
//! subject row, in the append-only history tables and in stored answers) can no longer be read,
//! while the rows themselves, their ids and the access log stay.

use crate::db::schema::{subject_keys, subjects};
use crate::domain::ids::SubjectId;
use diesel::prelude::*;

/// Deletes the subject's data key and empties the subject row's ciphertexts, blind indexes (which
/// frees its personal code) and preferred language, in the caller's transaction. Sets
/// `erased_at` unless the caller already has, in the same statement: the table's checks want an
/// erased row empty and an emptied third-party row erased.
pub fn shred_subject(conn: &mut PgConnection, id: SubjectId) -> QueryResult<()> {
    diesel::delete(subject_keys::table.find(id)).execute(conn)?;
    let none: Option<Vec<u8>> = None;
    diesel::update(subjects::table.find(id))
        .set((
            subjects::given_name_enc.eq(&none),
            subjects::family_name_enc.eq(&none),
            subjects::personal_code_enc.eq(&none),
            subjects::email_enc.eq(&none),
            subjects::phone_enc.eq(&none),
            subjects::address_street_enc.eq(&none),
            subjects::address_city_enc.eq(&none),
            subjects::address_postal_code_enc.eq(&none),
            subjects::address_country_enc.eq(&none),
            subjects::source_name_enc.eq(&none),
            subjects::source_reference_enc.eq(&none),
            subjects::source_collected_at_enc.eq(&none),
            subjects::source_attestation_enc.eq(&none),
            subjects::personal_code_bidx.eq(&none),
            subjects::email_bidx.eq(&none),
            subjects::preferred_language.eq(None::<String>),
            subjects::erased_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("coalesce(erased_at, now())")),
        ))
        .execute(conn)?;
    Ok(())
}
