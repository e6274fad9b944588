//! Tamper evidence: a SHA-256 hash chain over the access log, kept by a background sealer.
//!
//! Requests never touch the chain, so no request waits on a shared lock. Every entry carries the
//! id of the transaction that wrote it (`txid`); a sealing round chains exactly the entries of
//! transactions that had finished when it looked (those below the snapshot's `xmin`), in `txid`,
//! then `seq` order, so an entry committed late is never skipped. One instance seals at a time
//! (an advisory lock); the others simply find nothing to do.

use super::merkle::Frontier;
use super::model::Entry;
use super::sealing::Proofs;
use super::tree;
use super::unkeyed;
use crate::db::schema::{access_log, access_log_chain, access_log_seal};
use crate::db::singleton::{self, Singleton};
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use sha2::{Digest, Sha256};

/// Entries chained in one round at the most (a round is also cut at a transaction boundary).
pub(super) const ROUND_LIMIT: i64 = 20_000;

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

fn put(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

fn put_opt(hasher: &mut Sha256, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => {
            hasher.update([1]);
            put(hasher, b);
        }
        None => hasher.update([0]),
    }
}

/// The link after `previous` for this entry: every stored field, length-prefixed, in a fixed order.
pub fn link(previous: &[u8], entry: &Entry) -> [u8; 32] {
    let mut h = Sha256::new();
    put(&mut h, previous);
    h.update(entry.seq.to_be_bytes());
    put(&mut h, entry.id.as_bytes());
    h.update(entry.at.timestamp_micros().to_be_bytes());
    put(&mut h, entry.actor.as_bytes());
    put_opt(
        &mut h,
        entry.recipient_id.as_ref().map(|u| &u.as_bytes()[..]),
    );
    put(&mut h, entry.action.as_bytes());
    put_opt(&mut h, entry.subject_id.as_ref().map(|u| &u.as_bytes()[..]));
    put(&mut h, entry.outcome.as_bytes());
    put_opt(&mut h, entry.purpose.as_deref().map(str::as_bytes));
    put(&mut h, entry.request_id.as_bytes());
    put_opt(
        &mut h,
        entry.count.map(i32::to_be_bytes).as_ref().map(|b| &b[..]),
    );
    h.finalize().into()
}

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = BigInt)]
    xmin: i64,
}

/// The chain's head: its last position and hash.
pub(super) fn head(conn: &mut PgConnection) -> ApiResult<(i64, i64, Vec<u8>)> {
    let seal: Option<(i64, i64)> = access_log_seal::table
        .select((access_log_seal::horizon, access_log_seal::last_pos))
        .order(access_log_seal::id.desc())
        .first(conn)
        .optional()?;
    let (horizon, last_pos) = seal.unwrap_or((0, 0));
    let hash = if last_pos == 0 {
        GENESIS.to_vec()
    } else {
        access_log_chain::table
            .find(last_pos)
            .select(access_log_chain::hash)
            .first(conn)?
    };
    Ok((horizon, last_pos, hash))
}

/// Runs one sealing round; returns how many entries it chained. With `wait`, waits for another
/// sealer to finish instead of leaving the work to it.
/// Every call also compares the database with the checkpoints this instance recorded (at most
/// every few seconds), in whichever instance seals, and notes a failing round for `/readyz`.
pub fn seal(conn: &mut PgConnection, wait: bool, proofs: &Proofs) -> ApiResult<usize> {
    let result = proofs
        .witness
        .look(conn, false)
        .and_then(|_| seal_round(conn, wait, proofs))
        .map(|round| round.chained);
    proofs.witness.round_ended(result.as_ref().err());
    result
}

/// What one round did.
pub(super) struct Round {
    chained: usize,
    /// The tree's right edge after the round (`None` when another sealer held the lock).
    frontier: Option<Frontier>,
    /// Every transaction below this is now chained (when the round was not cut short).
    pub(super) complete_below: i64,
}

/// Also extends the Merkle tree with the same entries (those with a valid MAC) and signs a
/// checkpoint when one is due; the tree's right edge in memory changes only once committed.
pub(super) fn seal_round(conn: &mut PgConnection, wait: bool, proofs: &Proofs) -> ApiResult<Round> {
    let mut cached = proofs.tree.lock();
    let mut note = None;
    let round = conn.transaction::<Round, ApiError, _>(|conn| {
        let nothing = Round {
            chained: 0,
            complete_below: 0,
            frontier: None,
        };
        if wait {
            singleton::hold(conn, Singleton::Sealer)?;
        } else if !singleton::try_hold(conn, Singleton::Sealer)? {
            return Ok(nothing);
        }
        let (horizon, last_pos, mut previous) = head(conn)?;
        proofs.vouch(conn)?;
        // Entries and horizon must come from one snapshot: every transaction below xmin is
        // finished, and so visible in it.
        let xmin: Horizon = diesel::sql_query(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin",
        )
        .get_result(conn)?;
        let rows: Vec<Row> = access_log::table
            .filter(access_log::txid.ge(horizon))
            .filter(access_log::txid.lt(xmin.xmin))
            .order((access_log::txid, access_log::seq))
            .select((
                access_log::txid,
                Entry::as_select(),
                unkeyed::vouching_mac(),
            ))
            .limit(ROUND_LIMIT + 1)
            .load(conn)?;
        let (rows, new_horizon) = cut_at_transaction(rows, xmin.xmin, conn)?;
        let mut frontier = tree::current(conn, &cached)?;
        let seen = rows.len();
        let rows = proofs.admit(conn, rows, &mut frontier)?;
        note = proofs.maybe_sign(conn, &frontier)?;
        if seen == 0 {
            return Ok(Round {
                chained: 0,
                complete_below: xmin.xmin,
                frontier: Some(frontier),
            });
        }
        let mut links = Vec::with_capacity(rows.len());
        for (i, entry) in rows.iter().enumerate() {
            let hash = link(&previous, entry);
            previous = hash.to_vec();
            links.push((
                access_log_chain::pos.eq(last_pos + 1 + i as i64),
                access_log_chain::entry_seq.eq(entry.seq),
                access_log_chain::entry_id.eq(entry.id),
                access_log_chain::hash.eq(hash.to_vec()),
            ));
        }
        for chunk in links.chunks(5000) {
            diesel::insert_into(access_log_chain::table)
                .values(chunk)
                .execute(conn)?;
        }
        diesel::insert_into(access_log_seal::table)
            .values((
                access_log_seal::horizon.eq(new_horizon),
                access_log_seal::last_pos.eq(last_pos + rows.len() as i64),
            ))
            .execute(conn)?;
        Ok(Round {
            chained: rows.len(),
            complete_below: new_horizon,
            frontier: Some(frontier),
        })
    });
    let mut round = round?;
    if let Some(frontier) = round.frontier.take() {
        *cached = Some(frontier);
    }
    if let Some((epoch, note)) = note {
        proofs.keep(epoch, &note);
    }
    Ok(round)
}

/// A row a round reads: the writing transaction, the entry and its MAC.
type Row = (i64, Entry, Option<Vec<u8>>);
/// An entry and its MAC.
type Keyed = (Entry, Option<Vec<u8>>);

/// Keeps whole transactions: when a round is full, the last transaction waits for the next round
/// (unless it alone fills the round, when all of it is taken now).
fn cut_at_transaction(
    mut rows: Vec<Row>,
    xmin: i64,
    conn: &mut PgConnection,
) -> ApiResult<(Vec<Keyed>, i64)> {
    let strip = |rows: Vec<Row>| rows.into_iter().map(|(_, e, m)| (e, m)).collect();
    if rows.len() as i64 <= ROUND_LIMIT {
        return Ok((strip(rows), xmin));
    }
    let last_txid = rows.last().map_or(0, |(t, _, _)| *t);
    if rows.first().is_some_and(|(t, _, _)| *t == last_txid) {
        let all = access_log::table
            .filter(access_log::txid.eq(last_txid))
            .order(access_log::seq)
            .select((Entry::as_select(), unkeyed::vouching_mac()))
            .load(conn)?;
        return Ok((all, last_txid + 1));
    }
    rows.retain(|(t, _, _)| *t != last_txid);
    Ok((strip(rows), last_txid))
}
