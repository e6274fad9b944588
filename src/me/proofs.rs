//! `GET /v1/access-logs/{entry_id}/inclusion-proof` for both kinds of caller: staff get v2's
//! proof of any entry; a person, with their own token, the proof of an entry about them, with
//! the actor hidden unless it is the service or themselves (C-579/21) and the leaf hash to
//! walk from instead.

use super::resolve;
use crate::access_log::actor_kind::ActorKind;
use crate::access_log::model::Entry;
use crate::access_log::proofs::{not_yet, size_param};
use crate::access_log::proving::{prove_inclusion, Inclusion, InclusionProof};
use crate::access_log::{keyed, merkle, Action, Outcome};
use crate::caller::Caller;
use crate::db::schema::access_log;
use crate::disclosures::withheld::entry_withheld;
use crate::error::{ApiError, Problem};
use crate::pagination::Params;
use crate::paths;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// An entry about the person, as their proof shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShownEntry {
    pub id: Uuid,
    /// With six fractional digits, as in the entry's leaf.
    pub at: String,
    /// Who acted: only the service (`system:*`) or the person themselves; null otherwise.
    #[schema(required = true)]
    pub actor: Option<String>,
    pub actor_kind: ActorKind,
    #[schema(required = true)]
    pub recipient_id: Option<Uuid>,
    pub action: String,
    #[schema(required = true)]
    pub subject_id: Option<Uuid>,
    pub outcome: String,
    #[schema(required = true)]
    pub purpose: Option<String>,
    pub request_id: String,
    #[schema(required = true)]
    pub count: Option<i32>,
}

/// The proof of an entry about the person: walk `hashes` up from `leaf_hash` (the actor may be
/// hidden, so the leaf cannot always be recomputed from `entry`).
#[derive(Serialize, ToSchema)]
pub struct OwnInclusionProof {
    pub entry: ShownEntry,
    /// The entry's leaf hash (RFC 9162 §2.1.1), base64.
    pub leaf_hash: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// The audit path, bottom first, base64.
    pub hashes: Vec<String>,
    /// The checkpoint, as signed.
    pub checkpoint: String,
}

/// What the proof endpoint answers: staff get `InclusionProof`, a person `OwnInclusionProof`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum AnyInclusionProof {
    Staff(Box<InclusionProof>),
    Own(Box<OwnInclusionProof>),
}

fn shown(entry: Entry, me: Uuid, at: DateTime<Utc>) -> ShownEntry {
    let own = format!("subject:{me}");
    let kind = ActorKind::of_entry(&entry.actor, entry.recipient_id, &own);
    let visible = entry.actor.starts_with("system:") || entry.actor == own;
    ShownEntry {
        id: entry.id,
        at: keyed::micros(&at),
        actor: visible.then_some(entry.actor),
        actor_kind: kind,
        recipient_id: entry.recipient_id,
        action: entry.action,
        subject_id: entry.subject_id,
        outcome: entry.outcome,
        purpose: entry.purpose,
        request_id: entry.request_id,
        count: entry.count,
    }
}

/// Proves that one access-log entry is in the tree of a signed checkpoint.
///
/// `size` names the checkpoint (default: the latest); it must be a checkpoint's size greater than
/// the entry's leaf index. Staff (`access-logs:read`) get any entry: recompute the leaf from
/// `entry` (RFC 8785 canonical JSON of its ten members), walk `hashes` up to the root (RFC 9162
/// §2.1.3.2) and compare it with the signed checkpoint's; logged as `access_log.read` about the
/// entry's subject. A person, with their own token, gets only an entry about them (another's:
/// 404) with `entry.actor` null unless it is `system:*` or their own, its `actor_kind`, and
/// `leaf_hash` to walk from; logged as `access_log.read` about them.
#[utoipa::path(get, path = paths::ACCESS_LOG_INCLUSION_PROOF, tag = "access-log", security(("bearer" = [])),
    params(
        ("entry_id" = Uuid, Path, description = "The entry"),
        ("size" = Option<u64>, Query, description = "A checkpoint's tree size (default: the latest)"),
    ),
    responses(
        (status = 200, description = "The proof (a person's: `OwnInclusionProof`)", body = AnyInclusionProof),
        (status = 400, description = "A bad entry id or size", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `access-logs:read` (and is no person's own)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry, one the tree refused (not written by the service), or, for a person, an entry about someone else or one withheld from them (a withheld disclosure's); or no live record has the person's code (`no-record`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No checkpoint holds the entry yet (`not-yet-checkpointed`, with `Retry-After`), or the entry or the tree under it was changed in the database since it was signed (`entry-altered`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn inclusion_proof(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    if caller.actor.login.is_none() {
        return Ok(crate::access_log::proofs::inclusion_proof(state, caller, id, query).await?);
    }
    let me = resolve(&state, caller, Action::AccessLogRead).await?;
    let answer: actix_web::Result<HttpResponse> = async {
        let entry_id = id.into_inner();
        let mut params = Params::new(query.into_inner());
        let size = size_param(&mut params, "size");
        params.finish()?;
        let mine = me.id.uuid();
        let proof = state
            .db
            .run(move |conn| {
                // Whose entry it is comes first: another person's, or one withheld from them
                // now, is the same 404 as none, whether or not it is checkpointed yet.
                let shown: Option<Uuid> = access_log::table
                    .filter(access_log::id.eq(entry_id))
                    .filter(access_log::subject_id.eq(mine))
                    .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                        "NOT {}",
                        entry_withheld("access_log")
                    )))
                    .select(access_log::id)
                    .first(conn)
                    .optional()?;
                if shown.is_none() {
                    return Err(ApiError::not_found("entry"));
                }
                prove_inclusion(conn, entry_id, size)
            })
            .await?;
        let proof = match proof {
            Inclusion::Proof(proof) => proof,
            Inclusion::NotYet => {
                // Answered, but with no proof: the person's entry says it was not served.
                let refused = me
                    .caller
                    .entry(Action::AccessLogRead, Some(me.id), Outcome::Denied);
                state.log_reads(vec![refused]).await?;
                return Ok(not_yet(&state, "no signed checkpoint holds this entry yet"));
            }
        };
        let logged = me
            .caller
            .entry(Action::AccessLogRead, Some(me.id), Outcome::Allowed);
        state.log_reads(vec![logged]).await?;
        let leaf = merkle::leaf_hash(&keyed::leaf_data(&proof.entry));
        let at = proof.entry.at;
        let own = OwnInclusionProof {
            entry: shown(proof.entry, mine, at),
            leaf_hash: base64::engine::general_purpose::STANDARD.encode(leaf),
            leaf_index: proof.leaf_index,
            tree_size: proof.tree_size,
            hashes: proof.hashes,
            checkpoint: proof.checkpoint,
        };
        Ok(HttpResponse::Ok().json(AnyInclusionProof::Own(Box::new(own))))
    }
    .await;
    me.settle(&state, Action::AccessLogRead, answer).await
}
