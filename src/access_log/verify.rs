//! Verification of the hash chain (and of each chained entry's MAC): what
//! `GET /v1/access-logs/verify` runs after sealing what is pending.

use super::chain::{head, seal_round, GENESIS};
use super::chain_walk::check_links;
use super::model::Entry;
use super::sealing::Proofs;
use crate::db::schema::{access_log, access_log_chain, access_log_seal};
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The outcome of a verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// True when every checked entry is intact and in place.
    pub ok: bool,
    /// How many chained entries were checked.
    pub checked: i64,
    /// The first entry found changed, removed, inserted or out of place.
    pub first_bad_id: Option<Uuid>,
    /// The chain's last position and hash (hex): record them elsewhere to detect a wholesale rewrite.
    pub head_pos: i64,
    pub head_hash: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(QueryableByName)]
struct NextXid {
    #[diesel(sql_type = BigInt)]
    xmax: i64,
}

/// Seals until every transaction that had finished when this call began is chained. A
/// transaction still open elsewhere in the cluster holds the horizon back; after `patience`
/// the verification goes on with what is sealed.
fn seal_up_to_now(
    conn: &mut PgConnection,
    patience: std::time::Duration,
    proofs: &Proofs,
) -> ApiResult<()> {
    let target: NextXid =
        diesel::sql_query("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax")
            .get_result(conn)?;
    let deadline = std::time::Instant::now() + patience;
    loop {
        let round = seal_round(conn, true, proofs)?;
        if round.complete_below >= target.xmax || std::time::Instant::now() >= deadline {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Seals what is pending, then checks every link whose entry falls in `[from, to)` (all when
/// unbounded), each entry's MAC, and looks for entries that bypassed the chain (among them those
/// the sealer refused for want of a valid MAC). `progress` is called after each chunk is read.
pub fn verify(
    conn: &mut PgConnection,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    progress: &dyn Fn(),
    proofs: &Proofs,
) -> ApiResult<Verification> {
    // A sealer that cannot seal (rows removed behind its back) must not keep the chain from
    // being checked: what is sealed is verified, and the failure shows in `/readyz`.
    match seal_up_to_now(conn, std::time::Duration::from_secs(5), proofs) {
        Err(ApiError::Unavailable) => return Err(ApiError::Unavailable),
        Err(e) => {
            log::warn!("verify: sealing what is pending failed, checking what is sealed: {e}")
        }
        Ok(()) => {}
    }
    let (horizon, head_pos, head_hash) = match head(conn) {
        Ok(head) => head,
        Err(ApiError::Unavailable) => return Err(ApiError::Unavailable),
        Err(_) => stored_head(conn)?,
    };
    let start = first_pos_at_or_after(conn, from)?;
    let end = match to {
        Some(to) => first_pos_at_or_after(conn, Some(to))?
            .saturating_sub(1)
            .min(head_pos),
        None => head_pos,
    };
    let previous = if start <= 1 {
        GENESIS.to_vec()
    } else {
        access_log_chain::table
            .find(start - 1)
            .select(access_log_chain::hash)
            .first(conn)
            .optional()?
            .unwrap_or_else(|| GENESIS.to_vec())
    };
    let authentic = |e: &Entry, mac: Option<&[u8]>| proofs.authentic(e, mac);
    let walked = check_links(conn, (start, end), previous, progress, &authentic)?;
    let (checked, mut first_bad) = (walked.checked, walked.first_bad);
    // Links missing at the end of the range (removed with their entries) break the chain too,
    // though no entry is left to name.
    let whole = start > end || checked == end - start + 1;
    let every_link_below = walked.newest_txid < horizon;
    let stray =
        if from.is_none() && to.is_none() && first_bad.is_none() && whole && every_link_below {
            // Every link names a distinct, intact entry below the horizon: the entries below it are
            // all chained exactly when they are as many as the links (a count the index on `txid`
            // answers); only otherwise is the stray one looked for.
            match entries_below(conn, horizon)? == checked {
                true => None,
                false => unchained_entry(conn, horizon, from, to)?,
            }
        } else {
            unchained_entry(conn, horizon, from, to)?
        };
    if let Some(stray) = stray {
        if first_bad.is_none_or(|(seq, _)| stray.0 < seq) {
            first_bad = Some(stray);
        }
    }
    Ok(Verification {
        ok: first_bad.is_none() && whole,
        checked,
        first_bad_id: first_bad.map(|(_, id)| id),
        head_pos,
        head_hash: hex(&head_hash),
    })
}

/// The chain's head as the links stand when the seal's last link is gone: the last link there is.
fn stored_head(conn: &mut PgConnection) -> ApiResult<(i64, i64, Vec<u8>)> {
    let (horizon, sealed_pos): (i64, i64) = access_log_seal::table
        .select((access_log_seal::horizon, access_log_seal::last_pos))
        .order(access_log_seal::id.desc())
        .first(conn)
        .optional()?
        .unwrap_or((0, 0));
    let last: Option<(i64, Vec<u8>)> = access_log_chain::table
        .select((access_log_chain::pos, access_log_chain::hash))
        .order(access_log_chain::pos.desc())
        .first(conn)
        .optional()?;
    let (pos, hash) = last.unwrap_or((0, GENESIS.to_vec()));
    // The seal's position stays the head, so that the missing links count as broken.
    Ok((horizon, sealed_pos.max(pos), hash))
}

fn first_pos_at_or_after(
    conn: &mut PgConnection,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> ApiResult<i64> {
    let Some(at) = at else { return Ok(1) };
    let pos: Option<i64> = access_log_chain::table
        .inner_join(access_log::table.on(access_log::seq.eq(access_log_chain::entry_seq)))
        .filter(access_log::at.ge(at))
        .select(diesel::dsl::min(access_log_chain::pos))
        .first(conn)?;
    Ok(pos.unwrap_or(i64::MAX))
}

/// How many entries there are of transactions below `horizon`.
fn entries_below(conn: &mut PgConnection, horizon: i64) -> ApiResult<i64> {
    Ok(access_log::table
        .filter(access_log::txid.lt(horizon))
        .count()
        .get_result(conn)?)
}

/// An entry of a finished transaction that is not in the chain: inserted behind the service's back.
fn unchained_entry(
    conn: &mut PgConnection,
    horizon: i64,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> ApiResult<Option<(i64, Uuid)>> {
    let mut query = access_log::table
        .left_join(access_log_chain::table.on(access_log_chain::entry_seq.eq(access_log::seq)))
        .filter(access_log_chain::pos.is_null())
        .filter(access_log::txid.lt(horizon))
        .select((access_log::seq, access_log::id))
        .order(access_log::seq)
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(access_log::at.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(access_log::at.lt(to));
    }
    Ok(query.first(conn).optional()?)
}
