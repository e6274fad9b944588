//! The proof endpoints: the latest signed checkpoint and its verifier key, inclusion proofs for
//! single entries and consistency proofs between checkpoints. Every proof is checked against the
//! signed root before it is served, so the service never hands out a proof that does not hold.

use super::merkle::{self, Hash};
use super::model::Entry;
use super::tree::DbStore;
use super::{keyed, Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::db::schema::{access_log, access_log_checkpoint, access_log_leaf, access_log_refused};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::pagination::Params;
use crate::paths;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
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

/// 403 (logged) unless the caller holds `access-logs:read` or, where allowed, `access-logs:checkpoint`.
pub(super) async fn authorize(
    state: &AppState,
    caller: &Caller,
    checkpoint_scope: bool,
) -> ApiResult<()> {
    if checkpoint_scope && caller.actor.has(Scope::AccessLogsCheckpoint) {
        return Ok(());
    }
    state
        .authorize(caller, Scope::AccessLogsRead, Action::AccessLogRead, None)
        .await
}

/// A stored checkpoint of the current epoch: (size, root, note).
fn stored(conn: &mut PgConnection, size: Option<u64>) -> ApiResult<Option<(u64, Hash, String)>> {
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

fn not_yet(state: &AppState, detail: &str) -> HttpResponse {
    let retry = state.sealer.proofs().retry_after_secs();
    let mut res = actix_web::ResponseError::error_response(&ApiError::client(
        StatusCode::CONFLICT,
        "not-yet-checkpointed",
        detail,
    ));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&retry.to_string()) {
        res.headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, value);
    }
    res
}

fn b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// Returns the latest signed checkpoint of the access log's Merkle tree.
///
/// A C2SP tlog-checkpoint signed note: origin, tree size, base64 root hash, a blank line and an
/// Ed25519 signature line. Check it with the key from `/v1/access-logs/checkpoint-key`. Every entry
/// is in a signed checkpoint within 10 s of its commit.
#[utoipa::path(get, path = paths::ACCESS_LOG_CHECKPOINT, tag = "access-log", security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed note", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `access-logs:read` and `access-logs:checkpoint`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No checkpoint signed yet (`not-yet-checkpointed`, with `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn checkpoint(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    authorize(&state, &caller, true).await?;
    let proofs = state.sealer.proofs().clone();
    match state
        .db
        .run(move |conn| proofs.witness.to_serve(conn))
        .await?
    {
        Some(note) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(note)),
        None => Ok(not_yet(&state, "no checkpoint has been signed yet")),
    }
}

/// Returns the verifier key of the checkpoints, in signed-note form; needs no token.
///
/// `<origin>+<8 hex digits of the key id>+<base64(0x01 ‖ Ed25519 public key)>`. Pin it once (for
/// example in `planpro-privacy audit --key`) and check every checkpoint against it.
#[utoipa::path(get, path = paths::ACCESS_LOG_CHECKPOINT_KEY, tag = "access-log",
    responses((status = 200, description = "The verifier key", body = String, content_type = "text/plain")))]
pub async fn checkpoint_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", state.sealer.proofs().signer.verifier_key()))
}

/// How the request names a tree size.
fn size_param(params: &mut Params, name: &str) -> Option<u64> {
    params.with(name, |v| {
        v.parse::<u64>()
            .ok()
            .filter(|n| *n > 0 && *n < i64::MAX as u64)
            .ok_or_else(|| "must be a checkpoint's tree size (a positive integer)".to_owned())
    })
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

enum Inclusion {
    Proof(Box<InclusionProof>),
    NotYet,
}

fn prove_inclusion(conn: &mut PgConnection, id: Uuid, size: Option<u64>) -> ApiResult<Inclusion> {
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
fn altered(index: u64, tree_size: u64) -> ApiError {
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

/// Proves that one access-log entry is in the tree of a signed checkpoint.
///
/// `size` names the checkpoint (default: the latest); it must be a checkpoint's size greater than
/// the entry's leaf index. Recompute the leaf from `entry` (RFC 8785 canonical JSON of its ten
/// members), walk `hashes` up to the root (RFC 9162 §2.1.3.2) and compare it with the signed
/// checkpoint's. The call is logged (`access_log.read`, about the entry's subject).
#[utoipa::path(get, path = paths::ACCESS_LOG_INCLUSION_PROOF, tag = "access-log", security(("bearer" = [])),
    params(
        ("entry_id" = Uuid, Path, description = "The entry"),
        ("size" = Option<u64>, Query, description = "A checkpoint's tree size (default: the latest)"),
    ),
    responses(
        (status = 200, description = "The proof", body = InclusionProof),
        (status = 400, description = "A bad entry id or size", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `access-logs:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry, or one the tree refused (not written by the service)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No checkpoint holds the entry yet (`not-yet-checkpointed`, with `Retry-After`), or the entry or the tree under it was changed in the database since it was signed (`entry-altered`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn inclusion_proof(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    authorize(&state, &caller, false).await?;
    let id = id.into_inner();
    let mut params = Params::new(query.into_inner());
    let size = size_param(&mut params, "size");
    params.finish()?;
    let proof = match state
        .db
        .run(move |conn| prove_inclusion(conn, id, size))
        .await?
    {
        Inclusion::Proof(proof) => proof,
        Inclusion::NotYet => {
            return Ok(not_yet(&state, "no signed checkpoint holds this entry yet"))
        }
    };
    let entry = caller.entry(
        Action::AccessLogRead,
        proof.entry.subject_id.map(crate::domain::ids::SubjectId),
        Outcome::Allowed,
    );
    state.log_reads(vec![entry]).await?;
    Ok(HttpResponse::Ok().json(proof))
}

fn prove_consistency(conn: &mut PgConnection, from: u64, to: u64) -> ApiResult<ConsistencyProof> {
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

/// Proves that the checkpoint of size `from` is a prefix of the checkpoint of size `to`.
///
/// Both must be checkpoint sizes with `0 < from <= to`. Verify with RFC 9162 §2.1.4.2 against the
/// two signed roots: the log only grew, nothing in it was changed or removed.
#[utoipa::path(get, path = paths::ACCESS_LOG_CONSISTENCY_PROOF, tag = "access-log", security(("bearer" = [])),
    params(
        ("from" = u64, Query, description = "The older checkpoint's tree size"),
        ("to" = u64, Query, description = "The newer checkpoint's tree size"),
    ),
    responses(
        (status = 200, description = "The proof", body = ConsistencyProof),
        (status = 400, description = "`from` or `to` missing, not a checkpoint size, or `from > to`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `access-logs:read` and `access-logs:checkpoint`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn consistency_proof(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    authorize(&state, &caller, true).await?;
    let query = query.into_inner();
    let given: Vec<bool> = ["from", "to"]
        .iter()
        .map(|n| query.contains_key(*n))
        .collect();
    let mut params = Params::new(query);
    let from = size_param(&mut params, "from");
    let to = size_param(&mut params, "to");
    let mut errors = match params.finish() {
        Ok(()) => Vec::new(),
        Err(ApiError::Validation { errors, .. }) => errors,
        Err(other) => return Err(other),
    };
    for (name, given) in ["from", "to"].into_iter().zip(given) {
        if !given {
            errors.push(FieldError::new(name, "is required"));
        }
    }
    if from.zip(to).is_some_and(|(f, t)| f > t) {
        errors.push(FieldError::new("from", "must not be greater than `to`"));
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let proof = state
        .db
        .run(move |conn| prove_consistency(conn, from, to))
        .await?;
    Ok(HttpResponse::Ok().json(proof))
}
