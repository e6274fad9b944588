//! The inclusion proofs of many entries against one signed checkpoint (the latest), in one pass
//! over the stored tree: what an evidence bundle carries for every entry about a person. Each
//! proof is checked against the signed root before it is handed out, as single proofs are.

use super::keyed;
use super::merkle;
use super::model::Entry;
use super::proving::{altered, b64, stored, InclusionProof};
use super::tree::DbStore;
use crate::db::schema::{access_log_leaf, access_log_refused};
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The entries sorted by where they stand against the latest checkpoint.
pub struct ProofSet {
    /// The checkpoint, as signed.
    pub checkpoint: String,
    /// Its tree size.
    pub tree_size: u64,
    /// The entries the checkpoint holds, each with its proof, in the order given.
    pub proved: Vec<InclusionProof>,
    /// The entries no checkpoint holds yet, in the order given.
    pub pending: Vec<Entry>,
}

/// Proves each entry in the latest checkpoint; `None` when no checkpoint has been signed. Entries
/// the tree refused (not written by the service) are left out, as their single proof is 404;
/// 409 `entry-altered` when the stored tree no longer matches what was signed.
pub fn prove_all(conn: &mut PgConnection, entries: Vec<Entry>) -> ApiResult<Option<ProofSet>> {
    let Some((tree_size, root, checkpoint)) = stored(conn, None)? else {
        return Ok(None);
    };
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    let mut leaves: HashMap<Uuid, u64> = HashMap::new();
    for chunk in ids.chunks(10_000) {
        let rows: Vec<(Uuid, i64)> = access_log_leaf::table
            .filter(access_log_leaf::entry_id.eq_any(chunk))
            .select((access_log_leaf::entry_id, access_log_leaf::idx))
            .load(conn)?;
        for (id, idx) in rows {
            // An entry sealed twice (across a rollback) is proved at its first leaf, as alone.
            let idx = idx as u64;
            leaves
                .entry(id)
                .and_modify(|i| *i = (*i).min(idx))
                .or_insert(idx);
        }
    }
    let mut refused: HashSet<Uuid> = HashSet::new();
    for chunk in ids.chunks(10_000) {
        let rows: Vec<Uuid> = access_log_refused::table
            .filter(access_log_refused::entry_id.eq_any(chunk))
            .select(access_log_refused::entry_id)
            .load(conn)?;
        refused.extend(rows);
    }
    let mut store = DbStore::new(conn);
    let (mut proved, mut pending) = (Vec::new(), Vec::new());
    for entry in entries {
        let index = match leaves.get(&entry.id) {
            Some(&index) if index < tree_size => index,
            Some(_) => {
                pending.push(entry);
                continue;
            }
            None if refused.contains(&entry.id) => continue,
            None => {
                pending.push(entry);
                continue;
            }
        };
        let leaf = merkle::leaf_hash(&keyed::leaf_data(&entry));
        let hashes = match merkle::inclusion(&mut store, index, tree_size) {
            Ok(hashes) => hashes,
            Err(ApiError::Internal(_)) => return Err(altered(index, tree_size)),
            Err(e) => return Err(e),
        };
        if !merkle::verify_inclusion(index, tree_size, &leaf, &hashes, &root) {
            log::error!(
                "ALARM: the inclusion proof of entry {} does not match checkpoint {tree_size}",
                entry.id
            );
            return Err(altered(index, tree_size));
        }
        proved.push(InclusionProof {
            entry,
            leaf_index: index,
            tree_size,
            hashes: b64(&hashes),
            checkpoint: checkpoint.clone(),
        });
    }
    Ok(Some(ProofSet {
        checkpoint,
        tree_size,
        proved,
        pending,
    }))
}
