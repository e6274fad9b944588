//! The proofs the proof endpoints serve (`proofs.rs`), computed from the stored tree: an entry's
//! inclusion proof and the consistency proof between two checkpoints, each checked against the
//! signed roots before it is answered, so the service never hands out a proof that does not hold.

use super::keyed;
use super::merkle::{self, Hash};
use super::model::Entry;
use super::tree::DbStore;
use crate::db::schema::{access_log, access_log_checkpoint, access_log_leaf, access_log_refused};
use crate::error::{ApiError, ApiResult, FieldError};
use actix_web::http::StatusCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An entry's inclusion proof.
#[derive(Serialize, ToSchema)]
pub struct InclusionProof {
    /// The entry, exactly as its leaf data encodes it.
    pub entry: Entry,
    /// Its position in the tree (0-based).
    pub leaf_index: u64,
    /// The size of the checkpoint the proof is for.
    pub tree_size: u64,
    /// The audit path (RFC 9162 §2.1.3), bottom first, base64.
    pub hashes: Vec<String>,
    /// That checkpoint, as signed.
    pub checkpoint: String,
}

/// A consistency proof between two checkpoints.
#[derive(Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// The proof (RFC 9162 §2.1.4), base64.
    pub hashes: Vec<String>,
}

/// A stored checkpoint of the current epoch: (size, root, note).
pub(super) fn stored(
    conn: &mut PgConnection,
    size: Option<u64>,
) -> ApiResult<Option<(u64, Hash, String)>> {
    let epoch = super::witness::current_epoch(conn)?;
    let mut query = access_log_checkpoint::table
        .filter(access_log_checkpoint::epoch.eq(epoch))
        .select((
            access_log_checkpoint::size,
            access_log_checkpoint::root,
            access_log_checkpoint::note,
        ))
        .order(access_log_checkpoint::size.desc())
        .into_boxed();
    if let Some(size) = size {
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        query = query.filter(access_log_checkpoint::size.eq(size));
    }
    let row: Option<(i64, Vec<u8>, String)> = query.first(conn).optional()?;
    row.map(|(size, root, note)| {
        let root = root
            .try_into()
            .map_err(|_| ApiError::internal("a stored checkpoint root is not 32 bytes"))?;
        Ok((size as u64, root, note))
    })
    .transpose()
}

pub(super) fn b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// Where an entry stands: in the tree at this index, refused, waiting to be sealed, or unknown.
enum Standing {
    Leaf(u64, i64),
    Refused,
    Pending,
    Unknown,
}

fn standing(conn: &mut PgConnection, id: Uuid) -> ApiResult<Standing> {
    let leaf: Option<(i64, i64)> = access_log_leaf::table
        .filter(access_log_leaf::entry_id.eq(id))
        .select((access_log_leaf::idx, access_log_leaf::entry_seq))
        .order(access_log_leaf::idx)
        .first(conn)
        .optional()?;
    if let Some((idx, seq)) = leaf {
        return Ok(Standing::Leaf(idx as u64, seq));
    }
    let refused: i64 = access_log_refused::table
        .filter(access_log_refused::entry_id.eq(id))
        .count()
        .get_result(conn)?;
    if refused > 0 {
        return Ok(Standing::Refused);
    }
    // Entry ids are UUID v7 made with `at`: the time narrows the search to a few block ranges.
    let Some((secs, nanos)) = id.get_timestamp().map(|t| t.to_unix()) else {
        return Ok(Standing::Unknown);
    };
    let Some(at) = chrono::DateTime::from_timestamp(secs as i64, nanos) else {
        return Ok(Standing::Unknown);
    };
    let window = chrono::Duration::seconds(2);
    let found: i64 = access_log::table
        .filter(access_log::id.eq(id))
        .filter(access_log::at.between(at - window, at + window))
        .count()
        .get_result(conn)?;
    Ok(if found > 0 {
        Standing::Pending
    } else {
        Standing::Unknown
    })
}

pub enum Inclusion {
    /// The proof, checked against the checkpoint's root.
    Proof(Box<InclusionProof>),
    /// No checkpoint holds the entry yet.
    NotYet,
}

/// The inclusion proof of entry `id` in the checkpoint of `size` (default: the latest): 404 for
/// no such entry or a refused one, 400 for a `size` that cannot hold it, 409 `entry-altered` when
/// the stored tree no longer matches what was signed.
pub fn prove_inclusion(
    conn: &mut PgConnection,
    id: Uuid,
    size: Option<u64>,
) -> ApiResult<Inclusion> {
    let (index, seq) = match standing(conn, id)? {
        Standing::Leaf(index, seq) => (index, seq),
        Standing::Pending => return Ok(Inclusion::NotYet),
        Standing::Refused | Standing::Unknown => return Err(ApiError::not_found("entry")),
    };
    let Some((tree_size, root, note)) = stored(conn, size)? else {
        return match size {
            Some(_) => Err(ApiError::invalid_field(
                "size",
                "is not the size of a checkpoint",
            )),
            None => Ok(Inclusion::NotYet),
        };
    };
    if index >= tree_size {
        return match size {
            Some(_) => Err(ApiError::invalid_field(
                "size",
                format!("must be greater than the entry's leaf index {index}"),
            )),
            None => Ok(Inclusion::NotYet),
        };
    }
    let altered = || {
        log::error!(
            "ALARM: the inclusion proof of entry {id} does not match checkpoint {tree_size}"
        );
        altered(index, tree_size)
    };
    let Some(entry) = access_log::table
        .find(seq)
        .select(Entry::as_select())
        .first::<Entry>(conn)
        .optional()?
    else {
        return Err(altered());
    };
    let leaf = merkle::leaf_hash(&keyed::leaf_data(&entry));
    let hashes = match merkle::inclusion(&mut DbStore::new(conn), index, tree_size) {
        Ok(hashes) => hashes,
        // Hashes missing from storage: the tree was cut behind the service's back.
        Err(ApiError::Internal(_)) => return Err(altered()),
        Err(e) => return Err(e),
    };
    if !merkle::verify_inclusion(index, tree_size, &leaf, &hashes, &root) {
        return Err(altered());
    }
    Ok(Inclusion::Proof(Box::new(InclusionProof {
        entry,
        leaf_index: index,
        tree_size,
        hashes: b64(&hashes),
        checkpoint: note,
    })))
}

/// 409 `entry-altered`: the entry, or the tree under it, is no longer what the checkpoint signed
/// (changed or removed in the database); no proof that does not hold is served, and `verify`
/// names what changed.
pub(super) fn altered(index: u64, tree_size: u64) -> ApiError {
    ApiError::client(
        StatusCode::CONFLICT,
        "entry-altered",
        format!(
            "the entry at leaf {index}, or the tree under it, differs from what checkpoint \
             {tree_size} signed: it was changed in the database; GET /v1/access-logs/verify \
             names the first altered entry"
        ),
    )
}

/// The consistency proof between the checkpoints of sizes `from` and `to`: 400 naming each
/// size that is no checkpoint's.
pub fn prove_consistency(
    conn: &mut PgConnection,
    from: u64,
    to: u64,
) -> ApiResult<ConsistencyProof> {
    let not_checkpoint =
        |field: &str| ApiError::invalid_field(field, "is not the size of a checkpoint");
    let (old, new) = match (stored(conn, Some(from))?, stored(conn, Some(to))?) {
        (Some(old), Some(new)) => (old, new),
        (None, Some(_)) => return Err(not_checkpoint("from")),
        (Some(_), None) => return Err(not_checkpoint("to")),
        (None, None) => {
            return Err(ApiError::invalid(vec![
                FieldError::new("from", "is not the size of a checkpoint"),
                FieldError::new("to", "is not the size of a checkpoint"),
            ]))
        }
    };
    let hashes = merkle::consistency(&mut DbStore::new(conn), from, to)?;
    if !merkle::verify_consistency(from, to, &old.1, &new.1, &hashes) {
        log::error!("ALARM: checkpoints {from} and {to} are not consistent with the stored tree");
        return Err(ApiError::internal("consistency proof does not verify"));
    }
    Ok(ConsistencyProof {
        from,
        to,
        hashes: b64(&hashes),
    })
}
