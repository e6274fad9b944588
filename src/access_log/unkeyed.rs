//! Entries written before entries were keyed. Their `seq` alone never vouches for them (a row
//! inserted later with a `seq` at or below the cut-over would pass too): at the first sealing
//! round after the upgrade the service gives each of them, once, the MAC a keyed entry carries,
//! and records the cut-over with the number it vouched for as one MAC'ed fact. From then on an
//! entry is authentic only with a valid MAC, its own or the one vouched for it; a fresh install
//! has no such entries at all.

use super::keyed::{self, MacKey};
use super::model::Entry;
use crate::db::schema::{
    access_log, access_log_cutover, access_log_unkeyed, access_log_unkeyed_fact,
};
use crate::error::ApiResult;
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::{Binary, Nullable};

/// The MAC that vouches for an entry, for queries over `access_log`: its own, else the one
/// vouched for it at the upgrade (looked up only for entries without one).
pub fn vouching_mac() -> SqlLiteral<Nullable<Binary>> {
    sql::<Nullable<Binary>>(
        "coalesce(access_log.mac, (SELECT u.mac FROM access_log_unkeyed u \
         WHERE u.entry_seq = access_log.seq))",
    )
}

/// Entries vouched for per statement.
const CHUNK: i64 = 5_000;

/// What the fact's MAC covers: a text that no entry's leaf data (a JSON object) can be.
fn fact_data(cutover: i64, entries: i64) -> Vec<u8> {
    format!("planpro-privacy access-log unkeyed entries\ncutover {cutover}\nentries {entries}\n")
        .into_bytes()
}

/// Vouches for the unkeyed entries once (inside the sealing round, which one instance runs at
/// a time); true once the fact is recorded. A fact that does not verify is reported and never
/// replaced: vouching again would take in whatever was inserted since.
pub fn vouch_once(conn: &mut PgConnection, key: &MacKey) -> ApiResult<bool> {
    let fact: Option<(i64, i64, Vec<u8>)> = access_log_unkeyed_fact::table
        .select((
            access_log_unkeyed_fact::cutover,
            access_log_unkeyed_fact::entries,
            access_log_unkeyed_fact::mac,
        ))
        .first(conn)
        .optional()?;
    if let Some((cutover, entries, mac)) = fact {
        if !key.verify(&fact_data(cutover, entries), &mac) {
            log::error!(
                "ALARM: the record of the access-log entries written before keyed entries \
                 does not verify under ACCESS_LOG_KEY"
            );
        }
        return Ok(true);
    }
    // Rows numbered from 1 that predate the keys; 0 on a fresh install.
    let cutover: i64 = access_log_cutover::table
        .select(access_log_cutover::seq)
        .first(conn)
        .optional()?
        .unwrap_or(0);
    let mut entries = 0;
    let mut after = 0;
    loop {
        let batch: Vec<Entry> = access_log::table
            .filter(access_log::seq.gt(after))
            .filter(access_log::seq.le(cutover))
            .filter(access_log::mac.is_null())
            .order(access_log::seq)
            .limit(CHUNK)
            .select(Entry::as_select())
            .load(conn)?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        let rows: Vec<_> = batch
            .iter()
            .map(|e| {
                (
                    access_log_unkeyed::entry_seq.eq(e.seq),
                    access_log_unkeyed::mac.eq(key.mac(&keyed::leaf_data(e))),
                )
            })
            .collect();
        entries += diesel::insert_into(access_log_unkeyed::table)
            .values(&rows)
            .execute(conn)? as i64;
    }
    diesel::insert_into(access_log_unkeyed_fact::table)
        .values((
            access_log_unkeyed_fact::cutover.eq(cutover),
            access_log_unkeyed_fact::entries.eq(entries),
            access_log_unkeyed_fact::mac.eq(key.mac(&fact_data(cutover, entries))),
        ))
        .execute(conn)?;
    if entries > 0 {
        log::info!("vouched for {entries} access-log entries written before keyed entries");
    }
    Ok(false)
}
