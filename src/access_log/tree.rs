//! The Merkle tree's storage: append-only leaf and node rows written by the sealer, read back in
//! blocks of 256 to build proofs, and the in-memory right edge that the sealer extends. The right
//! edge is loaded from storage at start, and again whenever another instance sealed since.

use super::merkle::{self, Frontier, Hash, Store, BLOCK, GROUP};
use crate::db::schema::{access_log_leaf, access_log_node};
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use uuid::Uuid;

/// Stored hashes read through a per-use cache of whole blocks: a proof touches a handful.
pub struct DbStore<'c> {
    conn: &'c mut PgConnection,
    blocks: HashMap<(u32, u64), Vec<Hash>>,
}

impl<'c> DbStore<'c> {
    /// Reads the tree stored on this connection.
    pub fn new(conn: &'c mut PgConnection) -> Self {
        Self {
            conn,
            blocks: HashMap::new(),
        }
    }

    fn block(&mut self, layer: u32, block: u64) -> ApiResult<&Vec<Hash>> {
        if !self.blocks.contains_key(&(layer, block)) {
            let from = i64::try_from(block * BLOCK).map_err(ApiError::internal)?;
            let to = from + BLOCK as i64 - 1;
            let rows: Vec<Vec<u8>> = if layer == 0 {
                access_log_leaf::table
                    .filter(access_log_leaf::idx.between(from, to))
                    .order(access_log_leaf::idx)
                    .select(access_log_leaf::hash)
                    .load(self.conn)?
            } else {
                access_log_node::table
                    .filter(access_log_node::level.eq((layer * GROUP) as i16))
                    .filter(access_log_node::idx.between(from, to))
                    .order(access_log_node::idx)
                    .select(access_log_node::hash)
                    .load(self.conn)?
            };
            let hashes = rows.iter().map(|r| to_hash(r)).collect::<ApiResult<_>>()?;
            self.blocks.insert((layer, block), hashes);
        }
        self.blocks
            .get(&(layer, block))
            .ok_or_else(|| ApiError::internal("tree block vanished from the cache"))
    }
}

fn to_hash(bytes: &[u8]) -> ApiResult<Hash> {
    bytes
        .try_into()
        .map_err(|_| ApiError::internal("a stored tree hash is not 32 bytes"))
}

impl Store for DbStore<'_> {
    type Error = ApiError;

    fn get(&mut self, layer: u32, from: u64, to: u64) -> ApiResult<Vec<Hash>> {
        let mut out = Vec::with_capacity((to - from) as usize);
        let mut i = from;
        while i < to {
            let block = i / BLOCK;
            let hashes = self.block(layer, block)?;
            let end = to.min((block + 1) * BLOCK);
            let lo = (i - block * BLOCK) as usize;
            let hi = (end - block * BLOCK) as usize;
            let slice = hashes
                .get(lo..hi)
                .ok_or_else(|| ApiError::internal("the stored tree is missing hashes"))?;
            out.extend_from_slice(slice);
            i = end;
        }
        Ok(out)
    }
}

/// The number of leaves stored.
pub fn stored_size(conn: &mut PgConnection) -> ApiResult<u64> {
    let max: Option<i64> = access_log_leaf::table
        .select(diesel::dsl::max(access_log_leaf::idx))
        .first(conn)?;
    Ok(max.map_or(0, |m| m as u64 + 1))
}

/// The right edge of the stored tree.
pub fn load(conn: &mut PgConnection) -> ApiResult<Frontier> {
    let size = stored_size(conn)?;
    let mut store = DbStore::new(conn);
    let mut pending = Vec::new();
    for (layer, from, to) in Frontier::needs(size) {
        pending.push(store.get(layer, from, to)?);
    }
    Ok(Frontier::from_parts(size, pending))
}

/// A leaf to append: the entry it stands for and its hash.
pub struct NewLeaf {
    pub entry_seq: i64,
    pub entry_id: Uuid,
    pub hash: Hash,
}

/// Appends leaves to the stored tree (inside the sealing transaction) and to `frontier`.
pub fn append(
    conn: &mut PgConnection,
    frontier: &mut Frontier,
    leaves: &[NewLeaf],
) -> ApiResult<()> {
    let mut leaf_rows = Vec::with_capacity(leaves.len());
    let mut node_rows = Vec::new();
    for leaf in leaves {
        let idx = frontier.size() as i64;
        for (layer, index, hash) in frontier.push(leaf.hash) {
            node_rows.push((
                access_log_node::level.eq((layer * GROUP) as i16),
                access_log_node::idx.eq(index as i64),
                access_log_node::hash.eq(hash.to_vec()),
            ));
        }
        leaf_rows.push((
            access_log_leaf::idx.eq(idx),
            access_log_leaf::entry_seq.eq(leaf.entry_seq),
            access_log_leaf::entry_id.eq(leaf.entry_id),
            access_log_leaf::hash.eq(leaf.hash.to_vec()),
        ));
    }
    for chunk in leaf_rows.chunks(5000) {
        diesel::insert_into(access_log_leaf::table)
            .values(chunk)
            .execute(conn)?;
    }
    if !node_rows.is_empty() {
        diesel::insert_into(access_log_node::table)
            .values(&node_rows)
            .execute(conn)?;
    }
    Ok(())
}

/// The root of the stored tree's first `size` leaves.
pub fn root_at(conn: &mut PgConnection, size: u64) -> ApiResult<Hash> {
    merkle::subtree(&mut DbStore::new(conn), 0, size)
}

/// The sealer's copy of the right edge, shared by the background sealer and `verify` (which
/// seals before it checks). Held for a whole sealing round.
#[derive(Default)]
pub struct TreeState {
    frontier: Mutex<Option<Frontier>>,
}

impl TreeState {
    /// Exclusive use of the right edge for one round.
    pub fn lock(&self) -> MutexGuard<'_, Option<Frontier>> {
        self.frontier
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The right edge as stored now: the copy in memory when it matches storage, else reloaded.
pub fn current(conn: &mut PgConnection, cached: &Option<Frontier>) -> ApiResult<Frontier> {
    let size = stored_size(conn)?;
    match cached {
        Some(f) if f.size() == size => Ok(f.clone()),
        _ => load(conn),
    }
}
