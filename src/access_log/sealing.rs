//! What a sealing round needs beyond the hash chain: the MAC check that keeps entries the service
//! did not write out of the tree, the tree's right edge, and the checkpoint signer with its guard
//! against a database that went back in time (a restored backup, a rollback).
//!
//! The guard: after each checkpoint it signs, the signer keeps the note in a file outside the
//! database. At start it compares the stored tree with that note; if the tree is shorter, or its
//! root at that size differs, it refuses to sign, logs an alarm and `/readyz` says why.

use super::checkpoint::{self, Signer};
use super::keyed::{self, MacKey};
use super::merkle::{self, Frontier};
use super::model::Entry;
use super::tree::{self, TreeState};
use super::unkeyed;
use crate::db::schema::{access_log_checkpoint, access_log_refused};
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Whether this instance may sign.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Guard {
    /// Not yet compared with the kept checkpoint.
    Unchecked,
    Ok,
    /// Signing refused; the reason is what `/readyz` reports.
    Refused(String),
}

/// The sealer's keys and state for the tree and its checkpoints.
pub struct Proofs {
    pub tree: TreeState,
    pub signer: Signer,
    mac: MacKey,
    interval: Duration,
    state_file: PathBuf,
    guard: Mutex<Guard>,
    /// The entries written before keyed entries have been vouched for (see [`unkeyed`]).
    vouched: AtomicBool,
}

impl Proofs {
    /// The sealer's context; `state_file` keeps the last checkpoint this instance signed.
    pub fn new(signer: Signer, mac: MacKey, interval: Duration, state_file: PathBuf) -> Self {
        Self {
            tree: TreeState::default(),
            signer,
            mac,
            interval,
            state_file,
            guard: Mutex::new(Guard::Unchecked),
            vouched: AtomicBool::new(false),
        }
    }

    /// The context of a service run with this configuration: keys resolved (generated in
    /// embedded mode), the access-log key installed for [`super::record`] and the receipt key
    /// for the consent batch.
    pub fn start(config: &crate::config::Config) -> std::io::Result<std::sync::Arc<Self>> {
        let keys = config
            .proofs
            .resolve(config.database_url.is_none(), &config.data_dir)
            .map_err(std::io::Error::other)?;
        keyed::install(&keys.access_log_key).map_err(std::io::Error::other)?;
        crate::receipts::install(keys.receipt_key).map_err(std::io::Error::other)?;
        Ok(std::sync::Arc::new(Self::new(
            Signer::new(keys.checkpoint_key, &config.proofs.origin),
            MacKey::new(&keys.access_log_key),
            config.proofs.checkpoint_interval,
            config.data_dir.join("last-checkpoint"),
        )))
    }

    /// Seconds a client should wait for the next checkpoint.
    pub fn retry_after_secs(&self) -> u64 {
        self.interval.as_secs() + 1
    }

    /// Why signing is refused, if it is.
    pub fn alarm(&self) -> Option<String> {
        match &*self.guard.lock().unwrap_or_else(|p| p.into_inner()) {
            Guard::Refused(why) => Some(why.clone()),
            _ => None,
        }
    }

    /// True when the service wrote this entry: `mac` (its own, or the one vouched for it at the
    /// upgrade: [`unkeyed::vouching_mac`]) is valid.
    pub fn authentic(&self, entry: &Entry, mac: Option<&[u8]>) -> bool {
        mac.is_some_and(|m| self.mac.verify(&keyed::leaf_data(entry), m))
    }

    /// Vouches for the entries written before keyed entries, in the first round (before it reads
    /// its entries, so that they come with the MAC vouched for them).
    pub fn vouch(&self, conn: &mut PgConnection) -> ApiResult<()> {
        if !self.vouched.load(Ordering::Acquire) && unkeyed::vouch_once(conn, &self.mac)? {
            // Set only once the fact is seen committed: a round that rolls back vouched for nothing.
            self.vouched.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Appends to the tree every entry the service wrote (a valid MAC) and records the others as
    /// refused; returns the admitted entries, in order.
    pub fn admit(
        &self,
        conn: &mut PgConnection,
        rows: Vec<(Entry, Option<Vec<u8>>)>,
        frontier: &mut Frontier,
    ) -> ApiResult<Vec<Entry>> {
        let mut admitted = Vec::with_capacity(rows.len());
        let mut leaves = Vec::with_capacity(rows.len());
        let mut refused = Vec::new();
        for (entry, mac) in rows {
            let data = keyed::leaf_data(&entry);
            if mac.as_deref().is_some_and(|m| self.mac.verify(&data, m)) {
                leaves.push(tree::NewLeaf {
                    entry_seq: entry.seq,
                    entry_id: entry.id,
                    hash: merkle::leaf_hash(&data),
                });
                admitted.push(entry);
            } else {
                refused.push((entry.seq, entry.id));
            }
        }
        if let Some((_, first)) = refused.first() {
            log::warn!(
                "ALARM: {} access-log entries without a valid MAC kept out of the tree (first: {first})",
                refused.len()
            );
            let rows: Vec<_> = refused
                .iter()
                .map(|(seq, id)| {
                    (
                        access_log_refused::entry_seq.eq(seq),
                        access_log_refused::entry_id.eq(id),
                    )
                })
                .collect();
            for chunk in rows.chunks(5000) {
                diesel::insert_into(access_log_refused::table)
                    .values(chunk)
                    .execute(conn)?;
            }
        }
        tree::append(conn, frontier, &leaves)?;
        Ok(admitted)
    }

    /// Compares the stored tree with the checkpoint kept in the state file (once).
    fn check_guard(&self, conn: &mut PgConnection) -> ApiResult<bool> {
        let mut guard = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        if *guard == Guard::Unchecked {
            *guard = match std::fs::read_to_string(&self.state_file) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Guard::Ok,
                Err(e) => Guard::Refused(format!(
                    "cannot read the last signed checkpoint ({}): {e}",
                    self.state_file.display()
                )),
                Ok(note) => self.compare(conn, &note)?,
            };
            if let Guard::Refused(why) = &*guard {
                log::error!("ALARM: access-log checkpoints are not signed: {why}");
            }
        }
        Ok(*guard == Guard::Ok)
    }

    fn compare(&self, conn: &mut PgConnection, note: &str) -> ApiResult<Guard> {
        let kept = match checkpoint::parse(note) {
            Ok(kept) => kept,
            Err(e) => {
                return Ok(Guard::Refused(format!(
                    "the kept checkpoint is unreadable: {e}"
                )))
            }
        };
        let size = tree::stored_size(conn)?;
        if size < kept.size {
            return Ok(Guard::Refused(format!(
                "the database is behind: its tree has {size} entries, this service signed {}",
                kept.size
            )));
        }
        if tree::root_at(conn, kept.size)? != kept.root {
            return Ok(Guard::Refused(format!(
                "the database's tree differs from the checkpoint of size {} this service signed",
                kept.size
            )));
        }
        Ok(Guard::Ok)
    }

    /// Signs a checkpoint of `frontier` (inside the sealing transaction) when the tree grew and
    /// the last checkpoint is at least the interval old; returns the note to keep after commit.
    pub fn maybe_sign(
        &self,
        conn: &mut PgConnection,
        frontier: &Frontier,
    ) -> ApiResult<Option<String>> {
        let size = frontier.size();
        if !self.check_guard(conn)? || size == 0 {
            return Ok(None);
        }
        let latest: Option<(i64, DateTime<Utc>)> = access_log_checkpoint::table
            .select((
                access_log_checkpoint::size,
                access_log_checkpoint::signed_at,
            ))
            .order(access_log_checkpoint::size.desc())
            .first(conn)
            .optional()?;
        if let Some((last, at)) = latest {
            let age = (Utc::now() - at).to_std().unwrap_or(Duration::ZERO);
            if last as u64 >= size || age < self.interval {
                return Ok(None);
            }
        }
        let root = frontier.root();
        let note = self.signer.sign(size, &root);
        diesel::insert_into(access_log_checkpoint::table)
            .values((
                access_log_checkpoint::size.eq(size as i64),
                access_log_checkpoint::root.eq(root.to_vec()),
                access_log_checkpoint::note.eq(&note),
            ))
            .execute(conn)?;
        Ok(Some(note))
    }

    /// Keeps a committed note as the last signed checkpoint. The file is written after the
    /// commit: a crash in between leaves it behind the database, which the guard accepts.
    pub fn keep(&self, note: &str) {
        let tmp = self.state_file.with_extension("tmp");
        let written = self
            .state_file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, note))
            .and_then(|()| std::fs::rename(&tmp, &self.state_file));
        if let Err(e) = written {
            log::error!(
                "cannot keep the last signed checkpoint in {}: {e}",
                self.state_file.display()
            );
        }
    }
}
