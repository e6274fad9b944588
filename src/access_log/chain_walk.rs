//! The walk of the hash chain that `verify` runs: links read in chunks, each link checked
//! against the stored hash before it and its entry's MAC re-checked.

use super::chain::link;
use super::model::Entry;
use super::unkeyed;
use crate::db::schema::{access_log, access_log_chain};
use crate::error::ApiResult;
use diesel::prelude::*;
use uuid::Uuid;

/// Chain links read per query while verifying.
const VERIFY_CHUNK: i64 = 20_000;

type Link = (i64, i64, Uuid, Vec<u8>, Option<Entry>, Option<Vec<u8>>);

/// What a walk found.
pub(super) struct Walked {
    /// Links checked (up to the first broken one).
    pub checked: i64,
    /// The first broken link's entry (`seq`, id).
    pub first_bad: Option<(i64, Uuid)>,
    /// The newest `txid` among the entries of the links read.
    pub newest_txid: i64,
}

/// Walks the links `start..=end`. Fetching a chunk and checking the one before it overlap (the
/// database and the hashing run at once), and each chunk is checked on all cores.
pub(super) fn check_links(
    conn: &mut PgConnection,
    (start, end): (i64, i64),
    mut previous: Vec<u8>,
    progress: &dyn Fn(),
    authentic: &(dyn Fn(&Entry, Option<&[u8]>) -> bool + Sync),
) -> ApiResult<Walked> {
    let mut checked = 0;
    let mut newest_txid = i64::MIN;
    let mut pos = start;
    std::thread::scope(|scope| {
        let mut in_flight: Option<std::thread::ScopedJoinHandle<'_, (Vec<Link>, Option<usize>)>> =
            None;
        loop {
            let links = if pos <= end {
                let (links, txid) = fetch_links(conn, pos, (pos + VERIFY_CHUNK - 1).min(end))?;
                newest_txid = newest_txid.max(txid);
                progress();
                links
            } else {
                Vec::new()
            };
            if let Some(handle) = in_flight.take() {
                let (done, bad) = handle.join().unwrap_or_else(|_| (Vec::new(), Some(0)));
                checked += bad.unwrap_or(done.len()) as i64;
                if let Some(i) = bad {
                    let first_bad = done.get(i).map(|l| (l.1, l.2));
                    return Ok(Walked {
                        checked,
                        first_bad,
                        newest_txid,
                    });
                }
            }
            let Some(last) = links.last() else {
                return Ok(Walked {
                    checked,
                    first_bad: None,
                    newest_txid,
                });
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

/// The links at positions `from..=to` with their entries and MACs, and the newest `txid` among
/// those entries. Links and entries are read
/// apart and joined here: the entries of a chunk lie in a narrow range of `seq`, which one index
/// range scan reads far more cheaply than one index lookup per link (and nothing needs sorting).
fn fetch_links(conn: &mut PgConnection, from: i64, to: i64) -> ApiResult<(Vec<Link>, i64)> {
    let chain: Vec<(i64, i64, Uuid, Vec<u8>)> = access_log_chain::table
        .filter(access_log_chain::pos.between(from, to))
        .order(access_log_chain::pos)
        .select((
            access_log_chain::pos,
            access_log_chain::entry_seq,
            access_log_chain::entry_id,
            access_log_chain::hash,
        ))
        .load(conn)?;
    let (Some(low), Some(high)) = (
        chain.iter().map(|l| l.1).min(),
        chain.iter().map(|l| l.1).max(),
    ) else {
        return Ok((Vec::new(), i64::MIN));
    };
    let query = access_log::table
        .order(access_log::seq)
        .select((
            Entry::as_select(),
            access_log::txid,
            unkeyed::vouching_mac(),
        ))
        .into_boxed();
    // A range far wider than the chunk (an entry chained long after its neighbours) is read
    // entry by entry instead.
    let narrow = high - low < 2 * chain.len() as i64 + 1_000;
    let loaded: Vec<(Entry, i64, Option<Vec<u8>>)> = if narrow {
        query
            .filter(access_log::seq.between(low, high))
            .load(conn)?
    } else {
        let seqs: Vec<i64> = chain.iter().map(|l| l.1).collect();
        query.filter(access_log::seq.eq_any(seqs)).load(conn)?
    };
    // In `seq` order, as read; each is taken by the one link naming it (`entry_seq` is unique).
    let seqs: Vec<i64> = loaded.iter().map(|(e, _, _)| e.seq).collect();
    let mut entries: Vec<Option<_>> = loaded.into_iter().map(Some).collect();
    let mut newest_txid = i64::MIN;
    let links = chain
        .into_iter()
        .map(|(pos, seq, id, hash)| {
            let found = seqs
                .binary_search(&seq)
                .ok()
                .and_then(|i| entries.get_mut(i).and_then(Option::take));
            let (entry, mac) = match found {
                Some((e, txid, mac)) => {
                    newest_txid = newest_txid.max(txid);
                    (Some(e), mac)
                }
                None => (None, None),
            };
            (pos, seq, id, hash, entry, mac)
        })
        .collect();
    Ok((links, newest_txid))
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
