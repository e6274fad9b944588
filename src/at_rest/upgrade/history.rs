//! The first version's history tables, consent flags and stored answers, sealed in batches like
//! the subject rows (see the parent module).

use super::rows::{in_batches, key_of, sealed_names, sealed_params, StoredKey, BATCH};
use crate::at_rest::cipher::{Cipher, Place};
use crate::at_rest::store::{self, ServiceKey};
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Nullable, Text, Uuid as SqlUuid};
use std::collections::HashMap;

/// A history table keyed by a uuid `id`, with up to three clear text columns.
pub(super) struct Pass {
    table: &'static str,
    /// `(clear expression as text, clear column, encrypted column)`.
    columns: &'static [(&'static str, &'static str, &'static str)],
    /// The append-only guard lifted for the batch, if the table has one.
    guard: Option<&'static str>,
}

pub(super) const HISTORY: [Pass; 4] = [
    Pass {
        table: "rectifications",
        columns: &[
            ("old_value::text", "old_value", "old_value_enc"),
            ("new_value::text", "new_value", "new_value_enc"),
            ("reason", "reason", "reason_enc"),
        ],
        guard: Some("rectifications_append_only"),
    },
    Pass {
        table: "consent_events",
        columns: &[("evidence", "evidence", "evidence_enc")],
        guard: Some("consent_events_append_only"),
    },
    Pass {
        table: "disclosure_authorizations",
        columns: &[(
            "consent_evidence",
            "consent_evidence",
            "consent_evidence_enc",
        )],
        guard: None,
    },
    Pass {
        table: "disclosures",
        columns: &[("note", "note", "note_enc")],
        guard: Some("disclosures_append_only"),
    },
];

#[derive(QueryableByName)]
struct ClearRow {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    erased: bool,
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = SqlUuid)]
    subject_id: SubjectId,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    values: Vec<Option<String>>,
    #[diesel(embed)]
    key: StoredKey,
}

pub(super) fn history(conn: &mut PgConnection, pass: &Pass) -> ApiResult<u64> {
    let table = pass.table;
    let clear: Vec<&str> = pass.columns.iter().map(|c| c.0).collect();
    let plain: Vec<&str> = pass.columns.iter().map(|c| c.1).collect();
    let select = format!(
        "SELECT t.id, t.subject_id, ARRAY[{}] AS values, k.key_id, k.wrapped, \
                s.erased_at IS NOT NULL AS erased FROM {table} t \
         JOIN subjects s ON s.id = t.subject_id \
         LEFT JOIN subject_keys k ON k.subject_id = t.subject_id \
         WHERE t.id > $1 AND num_nonnulls({}) > 0 ORDER BY t.id LIMIT {BATCH}",
        clear.join(", "),
        plain.join(", ")
    );
    let sets: Vec<String> = pass
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = v.e{i}, {} = NULL", c.2, c.1))
        .collect();
    let n = pass.columns.len();
    let update = format!(
        "UPDATE {table} t SET {} FROM unnest($1::uuid[], {}) AS v (id, {}) WHERE t.id = v.id",
        sets.join(", "),
        sealed_params(n),
        sealed_names(n),
    );
    in_batches(
        conn,
        uuid::Uuid::nil(),
        |conn, after| -> ApiResult<Option<(uuid::Uuid, u64)>> {
            let rows: Vec<ClearRow> = diesel::sql_query(&select)
                .bind::<SqlUuid, _>(*after)
                .load(conn)?;
            let Some(last) = rows.last().map(|r| r.id) else {
                return Ok(None);
            };
            // Keys of this batch only: a cache over the whole table would grow with it.
            let mut keys: HashMap<SubjectId, Option<Cipher>> = HashMap::new();
            let mut ids = vec![];
            let mut sealed: Vec<Vec<Option<Vec<u8>>>> = vec![Vec::new(); pass.columns.len()];
            for row in rows {
                let key = match keys.get(&row.subject_id) {
                    Some(key) => key.clone(),
                    None => {
                        let key = key_of(conn, row.subject_id, row.erased, row.key)?;
                        keys.insert(row.subject_id, key.clone());
                        key
                    }
                };
                let place = *row.id.as_bytes();
                for ((value, (_, _, column)), out) in
                    row.values.iter().zip(pass.columns).zip(&mut sealed)
                {
                    let at = Place {
                        table,
                        column,
                        row: &place,
                    };
                    out.push(key.as_ref().and_then(|k| k.seal_text(at, value.as_deref())));
                }
                ids.push(row.id);
            }
            let sealed_rows = ids.len() as u64;
            if let Some(guard) = pass.guard {
                conn.batch_execute(&format!("ALTER TABLE {table} DISABLE TRIGGER {guard}"))?;
            }
            let mut query = diesel::sql_query(&update)
                .into_boxed()
                .bind::<Array<SqlUuid>, _>(ids);
            for column in sealed {
                query = query.bind::<Array<Nullable<Bytea>>, _>(column);
            }
            query.execute(conn)?;
            if let Some(guard) = pass.guard {
                conn.batch_execute(&format!("ALTER TABLE {table} ENABLE TRIGGER {guard}"))?;
            }
            Ok(Some((last, sealed_rows)))
        },
    )
}

#[derive(QueryableByName)]
struct ClearFlag {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    erased: bool,
    #[diesel(sql_type = SqlUuid)]
    subject_id: SubjectId,
    #[diesel(sql_type = Text)]
    purpose_id: String,
    #[diesel(sql_type = Text)]
    evidence: String,
    #[diesel(embed)]
    key: StoredKey,
}

/// The flags' evidence (keyed by subject and purpose).
pub(super) fn consents(conn: &mut PgConnection) -> ApiResult<u64> {
    let select = format!(
        "SELECT c.subject_id, c.purpose_id, c.evidence, k.key_id, k.wrapped, \
                s.erased_at IS NOT NULL AS erased FROM consents c \
         JOIN subjects s ON s.id = c.subject_id \
         LEFT JOIN subject_keys k ON k.subject_id = c.subject_id \
         WHERE (c.subject_id, c.purpose_id) > ($1, $2) AND c.evidence IS NOT NULL \
         ORDER BY c.subject_id, c.purpose_id LIMIT {BATCH}"
    );
    in_batches(
        conn,
        (uuid::Uuid::nil(), String::new()),
        |conn, after| -> ApiResult<Option<((uuid::Uuid, String), u64)>> {
            let rows: Vec<ClearFlag> = diesel::sql_query(&select)
                .bind::<SqlUuid, _>(after.0)
                .bind::<Text, _>(&after.1)
                .load(conn)?;
            let Some(last) = rows
                .last()
                .map(|r| (r.subject_id.uuid(), r.purpose_id.clone()))
            else {
                return Ok(None);
            };
            let (mut subjects, mut purposes, mut sealed) = (vec![], vec![], vec![]);
            for row in rows {
                let key = key_of(conn, row.subject_id, row.erased, row.key)?;
                // The place a flag's evidence is sealed at, spelled as the consents spell it
                // (`consents::model::flag_evidence_at`): the stored form is fixed once written.
                let mut place = row.subject_id.uuid().as_bytes().to_vec();
                place.extend_from_slice(row.purpose_id.as_bytes());
                let at = Place {
                    table: "consents",
                    column: "evidence_enc",
                    row: &place,
                };
                sealed.push(key.map(|k| k.seal(at, row.evidence.as_bytes())));
                subjects.push(row.subject_id.uuid());
                purposes.push(row.purpose_id);
            }
            let sealed_rows = subjects.len() as u64;
            diesel::sql_query(
                "UPDATE consents c SET evidence_enc = v.e, evidence = NULL \
                 FROM unnest($1::uuid[], $2::text[], $3::bytea[]) AS v (s, p, e) \
                 WHERE c.subject_id = v.s AND c.purpose_id = v.p",
            )
            .bind::<Array<SqlUuid>, _>(subjects)
            .bind::<Array<Text>, _>(purposes)
            .bind::<Array<Nullable<Bytea>>, _>(sealed)
            .execute(conn)?;
            Ok(Some((last, sealed_rows)))
        },
    )
}

#[derive(QueryableByName)]
struct ClearAnswer {
    #[diesel(sql_type = Bytea)]
    key_hash: Vec<u8>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    entry_subject_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Bytea)]
    body: Vec<u8>,
}

/// Stored idempotent answers: under their subject's key, or the service key when about none.
pub(super) fn answers(conn: &mut PgConnection) -> ApiResult<u64> {
    let select = format!(
        "SELECT key_hash, entry_subject_id, body FROM idempotency_keys \
         WHERE key_hash > $1 AND body IS NOT NULL ORDER BY key_hash LIMIT {BATCH}"
    );
    in_batches(
        conn,
        Vec::new(),
        |conn, after| -> ApiResult<Option<(Vec<u8>, u64)>> {
            let rows: Vec<ClearAnswer> = diesel::sql_query(&select)
                .bind::<Bytea, _>(after)
                .load(conn)?;
            let Some(last) = rows.last().map(|r| r.key_hash.clone()) else {
                return Ok(None);
            };
            let (mut hashes, mut sealed) = (vec![], vec![]);
            for row in rows {
                let key = match row.entry_subject_id {
                    Some(id) => store::subject_key(conn, id.into())?,
                    None => None,
                };
                let key = match key {
                    Some(key) => key,
                    None => store::service_cipher(conn, ServiceKey::Secrets)?,
                };
                let at = Place {
                    table: "idempotency_keys",
                    column: "body_enc",
                    row: &row.key_hash,
                };
                sealed.push(key.seal(at, &row.body));
                hashes.push(row.key_hash);
            }
            let sealed_rows = hashes.len() as u64;
            diesel::sql_query(
                "UPDATE idempotency_keys t SET body_enc = v.e, body = NULL \
                 FROM unnest($1::bytea[], $2::bytea[]) AS v (k, e) WHERE t.key_hash = v.k",
            )
            .bind::<Array<Bytea>, _>(hashes)
            .bind::<Array<Bytea>, _>(sealed)
            .execute(conn)?;
            Ok(Some((last, sealed_rows)))
        },
    )
}
