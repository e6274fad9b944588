//! The upgrade of a first-version database in place: after the migration that adds the
//! encrypted columns, every row still in clear is sealed (its clear columns emptied in the same
//! statement) in batches of [`BATCH`] rows, one transaction each, so that an interrupted run
//! simply continues; only then may the migration that drops the clear columns run.
//!
//! The history tables are append-only: each batch lifts their guard trigger inside its own
//! transaction (which holds the table's lock, so no other writer sees it lifted) and restores it
//! before committing.

mod history;
mod rows;

pub use rows::{in_batches, BATCH};
use rows::{sealed_names, sealed_params, StoredKey};

use crate::at_rest::blind::{self, Indexed};
use crate::at_rest::cipher::{Cipher, Place};
use crate::at_rest::store::{self, service_key, ServiceKey};
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Nullable, Text, Uuid as SqlUuid};

/// The personal columns of `subjects` in clear, in the order of their encrypted twins.
const SUBJECT_COLUMNS: [&str; 13] = [
    "given_name",
    "family_name",
    "personal_code",
    "email",
    "phone",
    "address_street",
    "address_city",
    "address_postal_code",
    "address_country",
    "source_name",
    "source_reference",
    "source_collected_at",
    "source_attestation",
];

/// The encrypted twins, as `Place` columns (static names).
const SUBJECT_SEALED: [&str; 13] = [
    "given_name_enc",
    "family_name_enc",
    "personal_code_enc",
    "email_enc",
    "phone_enc",
    "address_street_enc",
    "address_city_enc",
    "address_postal_code_enc",
    "address_country_enc",
    "source_name_enc",
    "source_reference_enc",
    "source_collected_at_enc",
    "source_attestation_enc",
];

/// The migration that drops the clear columns, before which the rows still in clear are sealed.
pub const DROP_CLEAR_COLUMNS: &str = "2026-12-01-220001_drop_clear_columns";

/// Whether the migration named `name` (diesel's name: version and title) drops the clear columns.
pub fn drops_clear_columns(name: &str) -> bool {
    let digits = |s: &str| {
        s.chars()
            .take_while(|c| *c != '_')
            .filter(char::is_ascii_digit)
            .collect::<String>()
    };
    digits(name) == digits(DROP_CLEAR_COLUMNS)
}

/// A failure of the upgrade as one line for the operator (an internal error's cause included).
pub fn describe(error: ApiError) -> String {
    match error {
        ApiError::Internal(cause) => format!("encryption at rest: {cause}"),
        other => format!("encryption at rest: {other}"),
    }
}

/// True while the clear columns exist (between the two migrations).
pub fn clear_columns_exist(conn: &mut PgConnection) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = \
         current_schema() AND table_name = 'subjects' AND column_name = 'given_name') AS found",
    )
    .get_result::<Found>(conn)
    .map(|f| f.found)
}

/// Seals every row still in clear; the number of rows sealed. Needs the keyring when there is
/// anything to seal.
pub fn encrypt_clear_rows(conn: &mut PgConnection) -> ApiResult<u64> {
    if !clear_columns_exist(conn)? {
        return Ok(0);
    }
    if super::keyring::installed().is_none() && any_clear(conn)? {
        return Err(ApiError::internal(
            "rows are still in clear; DATA_KEY (or DATA_KEY_FILE) is needed to encrypt them",
        ));
    }
    // Rows erased before encryption keep their ids only: their last clear values (the empty
    // names) go, and so do stored answers about them, which are never repeated anyway.
    let clear_columns = SUBJECT_COLUMNS.join(", ");
    let nulls: Vec<String> = SUBJECT_COLUMNS
        .iter()
        .map(|c| format!("{c} = NULL"))
        .collect();
    diesel::sql_query(format!(
        "UPDATE subjects SET {} WHERE erased_at IS NOT NULL AND num_nonnulls({clear_columns}) > 0",
        nulls.join(", ")
    ))
    .execute(conn)?;
    diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE body IS NOT NULL AND entry_action IS DISTINCT FROM \
         'subject.erase' AND entry_subject_id IN (SELECT id FROM subjects WHERE erased_at IS NOT NULL)",
    )
    .execute(conn)?;
    let mut sealed = subjects(conn)?;
    for pass in &history::HISTORY {
        sealed += history::history(conn, pass)?;
    }
    sealed += history::consents(conn)?;
    sealed += history::answers(conn)?;
    if sealed > 0 {
        log::info!("encryption at rest: {sealed} row(s) sealed");
    }
    Ok(sealed)
}

/// Whether any subject row is still in clear (the other tables only hold values of subjects).
fn any_clear(conn: &mut PgConnection) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM subjects) OR EXISTS (SELECT 1 FROM idempotency_keys) AS found")
        .get_result::<Found>(conn)
        .map(|f| f.found)
}

#[derive(QueryableByName)]
struct ClearSubject {
    #[diesel(sql_type = SqlUuid)]
    id: SubjectId,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    values: Vec<Option<String>>,
    #[diesel(embed)]
    key: StoredKey,
}

fn subjects(conn: &mut PgConnection) -> ApiResult<u64> {
    // The collection time as the API writes it (RFC 3339, microseconds, `Z`), whatever the
    // session's DateStyle and TimeZone.
    let clear = SUBJECT_COLUMNS
        .map(|c| match c {
            "source_collected_at" => {
                format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            }
            _ => format!("{c}::text"),
        })
        .join(", ");
    let any = SUBJECT_COLUMNS.join(", ");
    let select = format!(
        "SELECT s.id, ARRAY[{clear}] AS values, k.key_id, k.wrapped FROM subjects s \
         LEFT JOIN subject_keys k ON k.subject_id = s.id \
         WHERE s.id > $1 AND num_nonnulls({any}) > 0 ORDER BY s.id LIMIT {BATCH}"
    );
    let sets: Vec<String> = SUBJECT_SEALED
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = v.e{i}"))
        .chain(SUBJECT_COLUMNS.iter().map(|c| format!("{c} = NULL")))
        .collect();
    let update = format!(
        "UPDATE subjects s SET {}, personal_code_bidx = v.code, email_bidx = v.email \
         FROM unnest($1::uuid[], {}, ${}::bytea[], ${}::bytea[]) AS v (id, {}, code, email) \
         WHERE s.id = v.id",
        sets.join(", "),
        sealed_params(13),
        15,
        16,
        sealed_names(13),
    );
    in_batches(
        conn,
        uuid::Uuid::nil(),
        |conn, after| -> ApiResult<Option<(uuid::Uuid, u64)>> {
            let rows: Vec<ClearSubject> = diesel::sql_query(&select)
                .bind::<SqlUuid, _>(*after)
                .load(conn)?;
            let Some(last) = rows.last().map(|r| r.id.uuid()) else {
                return Ok(None);
            };
            let index_key = **service_key(conn, ServiceKey::BlindIndex)?;
            let (mut ids, mut codes, mut emails) = (vec![], vec![], vec![]);
            let mut sealed: Vec<Vec<Option<Vec<u8>>>> = vec![Vec::new(); 13];
            // New data keys of the batch, stored with one statement.
            let (mut new_ids, mut new_key_ids, mut new_wrapped) = (vec![], vec![], vec![]);
            let ring = store::keyring()?;
            for row in rows {
                let stored = row.key.pair();
                // Erased rows were emptied above; only live ones are selected here.
                let key = match store::open_subject_key(row.id, stored.as_ref())? {
                    Some(key) => key,
                    None => {
                        let bytes = store::new_key();
                        let place = *row.id.uuid().as_bytes();
                        let (key_id, wrapped) = ring.wrap(store::subject_key_place(&place), &bytes);
                        new_ids.push(row.id.uuid());
                        new_key_ids.push(key_id);
                        new_wrapped.push(wrapped);
                        Cipher::new(&bytes)
                    }
                };
                let place = *row.id.uuid().as_bytes();
                let values = row.values;
                codes.push(
                    values[2]
                        .as_deref()
                        .map(|v| blind::with_key(&index_key, Indexed::PersonalCode, v)),
                );
                emails.push(
                    values[3]
                        .as_deref()
                        .map(|v| blind::with_key(&index_key, Indexed::Email, v)),
                );
                for ((value, column), out) in values.iter().zip(SUBJECT_SEALED).zip(&mut sealed) {
                    let at = Place {
                        table: "subjects",
                        column,
                        row: &place,
                    };
                    out.push(key.seal_text(at, value.as_deref()));
                }
                ids.push(row.id.uuid());
            }
            let sealed_rows = ids.len() as u64;
            diesel::sql_query(
                "INSERT INTO subject_keys (subject_id, key_id, wrapped) \
                 SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::bytea[])",
            )
            .bind::<Array<SqlUuid>, _>(new_ids)
            .bind::<Array<Bytea>, _>(new_key_ids)
            .bind::<Array<Bytea>, _>(new_wrapped)
            .execute(conn)?;
            let mut query = diesel::sql_query(&update)
                .into_boxed()
                .bind::<Array<SqlUuid>, _>(ids);
            for column in sealed {
                query = query.bind::<Array<Nullable<Bytea>>, _>(column);
            }
            query
                .bind::<Array<Nullable<Bytea>>, _>(codes)
                .bind::<Array<Nullable<Bytea>>, _>(emails)
                .execute(conn)?;
            Ok(Some((last, sealed_rows)))
        },
    )
}
