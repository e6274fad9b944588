//! An operator's decision, on the record: when the log went back (a restore, a failover to a
//! standby that missed commits, rows removed behind the service's back), signing stays refused
//! until an operator states what they accept with `planpro-privacy accept-rollback`. That signs a
//! rollback statement (old and new sizes and roots, the reason, the time) under the checkpoint
//! key, opens a new epoch of checkpoints with one of the tree as it is, and appends an
//! `access_log.rollback` entry; every instance then resumes signing from there.

use super::checkpoint;
use super::merkle::Hash;
use super::sealing::Proofs;
use super::witness::{self, Recorded};
use super::{tree, Action, NewEntry, Outcome};
use crate::caller::Caller;
use crate::db::schema::{
    access_log_chain, access_log_checkpoint, access_log_rollback, access_log_seal,
};
use crate::db::singleton::{self, Singleton};
use crate::error::{ApiError, ApiResult, Problem};
use crate::paths;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

/// A recorded rollback statement.
#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct Rollback {
    /// The tree size of the newest checkpoint signed or seen before the rollback.
    pub old_size: i64,
    /// Its root, base64.
    #[serde(serialize_with = "base64_bytes")]
    #[schema(value_type = String)]
    pub old_root: Vec<u8>,
    /// The tree size accepted (the entries the log held then).
    pub new_size: i64,
    /// Its root, base64.
    #[serde(serialize_with = "base64_bytes")]
    #[schema(value_type = String)]
    pub new_root: Vec<u8>,
    /// Why the operator accepted it.
    pub reason: String,
    pub at: DateTime<Utc>,
    /// The statement as a signed note under the checkpoint key.
    pub statement: String,
}

fn base64_bytes<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&B64.encode(bytes))
}

/// The rollback statements, oldest first.
#[derive(Serialize, ToSchema)]
pub struct Rollbacks {
    pub items: Vec<Rollback>,
}

/// Every rollback statement, oldest first.
pub fn all(conn: &mut PgConnection) -> ApiResult<Vec<Rollback>> {
    Ok(access_log_rollback::table
        .order(access_log_rollback::epoch)
        .select((
            access_log_rollback::old_size,
            access_log_rollback::old_root,
            access_log_rollback::new_size,
            access_log_rollback::new_root,
            access_log_rollback::reason,
            access_log_rollback::at,
            access_log_rollback::statement,
        ))
        .load(conn)?)
}

/// Lists the rollback statements operators recorded, oldest first.
///
/// Each says which checkpoint the log went back from (`old_size`, `old_root`), to which tree
/// (`new_size`, `new_root`), why and when, with the statement as a signed note under the
/// checkpoint key. `planpro-privacy audit` reports the one covering an inconsistency it finds.
#[utoipa::path(get, path = paths::ACCESS_LOG_ROLLBACKS, tag = "access-log", security(("bearer" = [])),
    responses(
        (status = 200, description = "The statements", body = Rollbacks),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `access-logs:read` and `access-logs:checkpoint`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    super::proofs::authorize(&state, &caller, true).await?;
    let items = state.db.run(all).await?;
    Ok(HttpResponse::Ok().json(Rollbacks { items }))
}

/// The statement's text: what was signed.
fn statement_text(
    origin: &str,
    old: &Recorded,
    new_size: u64,
    new_root: &Hash,
    reason: &str,
    at: &DateTime<Utc>,
) -> String {
    format!(
        "{origin}\nrollback\nold {} {}\nnew {new_size} {}\nat {}\nreason {}\n",
        old.size(),
        B64.encode(old.root()),
        B64.encode(new_root),
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        reason.replace('\n', " ")
    )
}

/// What an accepted rollback recorded.
#[derive(Debug)]
pub struct Accepted {
    pub old_size: u64,
    pub new_size: u64,
    pub epoch: i32,
    pub statement: String,
}

/// Checks the operator's reason: 1..500 visible characters.
pub fn check_reason(reason: &str) -> Result<(), String> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err("--reason: 1 to 500 characters".into());
    }
    if reason
        .chars()
        .any(|c| c.is_control() || crate::domain::text::is_hidden(c))
    {
        return Err("--reason: no control or hidden characters".into());
    }
    Ok(())
}

/// Accepts the log as it stands, `size` leaves (refused unless that is its size), as the new
/// starting point of the checkpoints. The newest checkpoint the log no longer extends is the
/// newer of the one this instance recorded and the database's newest.
pub fn accept(
    conn: &mut PgConnection,
    proofs: &Proofs,
    size: u64,
    reason: &str,
) -> Result<Accepted, String> {
    check_reason(reason)?;
    let db = |e: ApiError| Refusal(format!("database: {e}"));
    let accepted = conn
        .transaction::<_, Refusal, _>(|conn| {
            // No round seals while the statement is made.
            singleton::hold(conn, Singleton::Sealer)?;
            let held = tree::stored_size(conn).map_err(db)?;
            if size != held {
                return Err(Refusal(format!("the log now holds {held} entries in its tree, not {size}: check what was lost and run again with --size {held}")));
            }
            let stored = witness::latest_stored(conn)
                .map_err(db)?
                .and_then(|(epoch, note)| Recorded::from_note(epoch, note).ok());
            let old = match (proofs.witness.newest(), stored) {
                (Some(a), Some(b)) => if b.size() > a.size() { b } else { a },
                (a, b) => a.or(b).ok_or_else(|| Refusal("no checkpoint was ever signed: there is nothing to accept".into()))?,
            };
            if witness::tree_has(conn, old.size(), &old.root()).map_err(db)? {
                return Err(Refusal(format!("the log extends the newest checkpoint ({} entries): there is no rollback to accept", old.size())));
            }
            let new_root = tree::root_at(conn, size).map_err(|_| {
                Refusal(format!("the stored tree lacks hashes below {size}: restore the access-log tables from a backup instead"))
            })?;
            let epoch = witness::current_epoch(conn).map_err(db)? + 1;
            let at = Utc::now().trunc_subsecs(6);
            let statement = proofs
                .signer
                .sign_text(&statement_text(proofs.signer.origin(), &old, size, &new_root, reason.trim(), &at));
            diesel::insert_into(access_log_rollback::table)
                .values((
                    access_log_rollback::epoch.eq(epoch),
                    access_log_rollback::old_size.eq(old.size() as i64),
                    access_log_rollback::old_root.eq(old.root().to_vec()),
                    access_log_rollback::new_size.eq(size as i64),
                    access_log_rollback::new_root.eq(new_root.to_vec()),
                    access_log_rollback::reason.eq(reason.trim()),
                    access_log_rollback::at.eq(at),
                    access_log_rollback::statement.eq(&statement),
                ))
                .execute(conn)?;
            let note = proofs.signer.sign(size, &new_root);
            diesel::insert_into(access_log_checkpoint::table)
                .values((
                    access_log_checkpoint::epoch.eq(epoch),
                    access_log_checkpoint::size.eq(size as i64),
                    access_log_checkpoint::root.eq(new_root.to_vec()),
                    access_log_checkpoint::note.eq(&note),
                ))
                .execute(conn)?;
            repair_chain_head(conn).map_err(db)?;
            let entry = NewEntry::for_actor(
                &crate::auth::Actor::new("system:accept-rollback", &[], None),
                &format!("accept-rollback-{epoch}"),
                None,
                Action::AccessLogRollback,
                None,
                Outcome::Allowed,
            );
            super::record(conn, &[entry]).map_err(db)?;
            Ok((Accepted { old_size: old.size(), new_size: size, epoch, statement }, note))
        })
        .map_err(|Refusal(why)| why)?;
    let (accepted, note) = accepted;
    proofs.keep(accepted.epoch, &note);
    Ok(accepted)
}

/// Why an acceptance was refused or failed.
struct Refusal(String);

impl From<diesel::result::Error> for Refusal {
    fn from(e: diesel::result::Error) -> Self {
        Self(format!("database: {e}"))
    }
}

/// When the links at the chain's recorded head were removed with their entries, the chain goes on
/// from the last link there is (a new seal row; the old ones stay).
fn repair_chain_head(conn: &mut PgConnection) -> ApiResult<()> {
    let seal: Option<(i64, i64)> = access_log_seal::table
        .select((access_log_seal::horizon, access_log_seal::last_pos))
        .order(access_log_seal::id.desc())
        .first(conn)
        .optional()?;
    let Some((horizon, last_pos)) = seal else {
        return Ok(());
    };
    let last: Option<i64> = access_log_chain::table
        .select(diesel::dsl::max(access_log_chain::pos))
        .first(conn)?;
    let last = last.unwrap_or(0);
    if last < last_pos {
        diesel::insert_into(access_log_seal::table)
            .values((
                access_log_seal::horizon.eq(horizon),
                access_log_seal::last_pos.eq(last),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A statement's parts, parsed from its signed note (for `audit`): (old size, old root, new
/// size, new root).
pub fn parse_statement(note: &str) -> Option<(u64, Hash, u64, Hash)> {
    let (text, _) = note.split_once("\n\n")?;
    let mut lines = text.lines().skip(1);
    if lines.next()? != "rollback" {
        return None;
    }
    let mut side = |name: &str| -> Option<(u64, Hash)> {
        let line = lines.next()?.strip_prefix(name)?;
        let (size, root) = line.trim().split_once(' ')?;
        Some((size.parse().ok()?, B64.decode(root).ok()?.try_into().ok()?))
    };
    let (old_size, old_root) = side("old ")?;
    let (new_size, new_root) = side("new ")?;
    Some((old_size, old_root, new_size, new_root))
}

/// True when `note` carries a valid signature by `key` (a statement is a signed note like a
/// checkpoint, with other text).
pub fn signed_by(note: &str, key: &checkpoint::VerifierKey) -> bool {
    let Some((text, sigs)) = note.split_once("\n\n") else {
        return false;
    };
    let fake = format!("{}\n0\n{}\n\n{sigs}", key.name, B64.encode([0u8; 32]));
    // Reuse the checkpoint verifier on the statement's own body.
    checkpoint::parse(&fake).is_ok_and(|mut cp| {
        cp.body = format!("{text}\n");
        key.verifies(&cp)
    })
}
