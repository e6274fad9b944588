//! Verification of the hash chain (and of each chained entry's MAC): what
//! `GET /v1/access-logs/verify` runs after sealing what is pending.

use super::chain::{head, link, seal_round, GENESIS};
use super::model::Entry;
use super::sealing::Proofs;
use super::unkeyed;
use crate::db::schema::{access_log, access_log_chain, access_log_seal};
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Chain links read per query while verifying.
const VERIFY_CHUNK: i64 = 20_000;

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

type Link = (i64, i64, Uuid, Vec<u8>, Option<Entry>, Option<Vec<u8>>);

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
    let (checked, mut first_bad) = check_links(conn, (start, end), previous, progress, &authentic)?;
    // Links missing at the end of the range (removed with their entries) break the chain too,
    // though no entry is left to name.
    let whole = start > end || checked == end - start + 1;
    if let Some(stray) = unchained_entry(conn, horizon, from, to)? {
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

/// Walks the links `start..=end`: (links checked, the first broken one). Fetching a chunk and
/// checking the one before it overlap (the database and the hashing run at once).
fn check_links(
    conn: &mut PgConnection,
    (start, end): (i64, i64),
    mut previous: Vec<u8>,
    progress: &dyn Fn(),
    authentic: &(dyn Fn(&Entry, Option<&[u8]>) -> bool + Sync),
) -> ApiResult<(i64, Option<(i64, Uuid)>)> {
    let mut checked = 0;
    let mut pos = start;
    std::thread::scope(|scope| {
        let mut in_flight: Option<std::thread::ScopedJoinHandle<'_, (Vec<Link>, Option<usize>)>> =
            None;
        loop {
            let links = if pos <= end {
                let links = fetch_links(conn, pos, (pos + VERIFY_CHUNK - 1).min(end))?;
                progress();
                links
            } else {
                Vec::new()
            };
            if let Some(handle) = in_flight.take() {
                let (done, bad) = handle.join().unwrap_or_else(|_| (Vec::new(), Some(0)));
                checked += bad.unwrap_or(done.len()) as i64;
                if let Some(i) = bad {
                    return Ok((checked, done.get(i).map(|l| (l.1, l.2))));
                }
            }
            let Some(last) = links.last() else {
                return Ok((checked, None));
            };
            let (first, next_previous) = (pos, last.3.clone());
            pos = last.0 + 1;
            let before = std::mem::replace(&mut previous, next_previous);
            in_flight = Some(scope.spawn(move || {
                let bad = first_broken(&links, first, &before, authentic);
                (links, bad)
            }));
        }
    })
}

fn fetch_links(conn: &mut PgConnection, from: i64, to: i64) -> ApiResult<Vec<Link>> {
    Ok(access_log_chain::table
        .left_join(access_log::table.on(access_log::seq.eq(access_log_chain::entry_seq)))
        .filter(access_log_chain::pos.between(from, to))
        .order(access_log_chain::pos)
        .select((
            access_log_chain::pos,
            access_log_chain::entry_seq,
            access_log_chain::entry_id,
            access_log_chain::hash,
            Option::<Entry>::as_select(),
            unkeyed::vouching_mac(),
        ))
        .load(conn)?)
}

/// The index of the first broken link of a chunk that starts at position `pos` after the link
/// hash `previous`, or `None`. Each link is checked against the stored hash before it, so links
/// are independent and the chunk is split over the machine's cores (hashing and MACs dominate).
fn first_broken(
    links: &[Link],
    pos: i64,
    previous: &[u8],
    authentic: impl Fn(&Entry, Option<&[u8]>) -> bool + Sync,
) -> Option<usize> {
    let intact = |i: usize| {
        let (link_pos, _, entry_id, stored, entry, mac) = &links[i];
        let before = if i == 0 {
            previous
        } else {
            &links[i - 1].3[..]
        };
        *link_pos == pos + i as i64
            && entry.as_ref().is_some_and(|e| {
                e.id == *entry_id
                    && link(before, e)[..] == stored[..]
                    && authentic(e, mac.as_deref())
            })
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let part = links.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..links.len())
            .step_by(part)
            .map(|from| {
                let intact = &intact;
                scope.spawn(move || (from..(from + part).min(links.len())).find(|i| !intact(*i)))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap_or(Some(0)))
            .min()
    })
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
