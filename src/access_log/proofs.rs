//! The proof endpoints: the latest signed checkpoint and its verifier key, inclusion proofs for
//! single entries and consistency proofs between checkpoints. Every proof is checked against the
//! signed root before it is served, so the service never hands out a proof that does not hold.

use super::proving::{
    prove_consistency, prove_inclusion, ConsistencyProof, Inclusion, InclusionProof,
};
use super::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::pagination::Params;
use crate::paths;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use std::collections::HashMap;
use uuid::Uuid;

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

/// 409 `not-yet-checkpointed` with `Retry-After`: no signed checkpoint holds what was asked for.
pub fn not_yet(state: &AppState, detail: &str) -> HttpResponse {
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
