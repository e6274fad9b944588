//! What a sealing round needs beyond the hash chain: the MAC check that keeps entries the service
//! did not write out of the tree, the tree's right edge, and the checkpoint signer with its guard
//! against a database that went back in time (a restored backup, a rollback).
//!
//! The guard is the [`Witness`]: the checkpoints this instance signed or read, kept in its
//! `DATA_DIR`; a tree that does not extend them is never signed.

use super::checkpoint::Signer;
use super::keyed::{self, MacKey};
use super::merkle::{self, Frontier};
use super::model::Entry;
use super::tree::{self, TreeState};
use super::unkeyed;
use super::witness::{self, Witness};
use crate::db::schema::{access_log_checkpoint, access_log_refused};
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The sealer's keys and state for the tree and its checkpoints.
pub struct Proofs {
    pub tree: TreeState,
    pub signer: Signer,
    mac: MacKey,
    interval: Duration,
    pub witness: Witness,
    /// The entries written before keyed entries have been vouched for (see [`unkeyed`]).
    vouched: AtomicBool,
}

impl Proofs {
    /// The sealer's context; `data_dir` keeps the checkpoints this instance signed or read.
    pub fn new(signer: Signer, mac: MacKey, interval: Duration, data_dir: &Path) -> Self {
        Self {
            tree: TreeState::default(),
            signer,
            mac,
            interval,
            witness: Witness::open(data_dir),
            vouched: AtomicBool::new(false),
        }
    }

    /// The context of a service run with this configuration: keys resolved (generated in
    /// embedded mode) and the access-log key installed for [`super::record`].
    pub fn start(config: &crate::config::Config) -> std::io::Result<std::sync::Arc<Self>> {
        let keys = config
            .proofs
            .resolve(config.database_url.is_none(), &config.data_dir)
            .map_err(std::io::Error::other)?;
        keyed::install(&keys.access_log_key).map_err(std::io::Error::other)?;
        Ok(std::sync::Arc::new(Self::new(
            Signer::new(keys.checkpoint_key, &config.proofs.origin),
            MacKey::new(&keys.access_log_key),
            config.proofs.checkpoint_interval,
            &config.data_dir,
        )))
    }

    /// Seconds a client should wait for the next checkpoint.
    pub fn retry_after_secs(&self) -> u64 {
        self.interval.as_secs() + 1
    }

    /// The alarms standing (`/readyz` lists them).
    pub fn alarms(&self) -> Vec<&'static str> {
        self.witness.alarms()
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

    /// Signs a checkpoint of `frontier` (inside the sealing transaction) when the tree grew and
    /// the last checkpoint is at least the interval old; returns the note to keep after commit.
    pub fn maybe_sign(
        &self,
        conn: &mut PgConnection,
        frontier: &Frontier,
    ) -> ApiResult<Option<(i32, String)>> {
        let size = frontier.size();
        if size == 0 {
            return Ok(None);
        }
        let epoch = witness::current_epoch(conn)?;
        let latest: Option<(i64, DateTime<Utc>)> = access_log_checkpoint::table
            .filter(access_log_checkpoint::epoch.eq(epoch))
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
        if !self.witness.extends(conn, size, &root)? {
            return Ok(None);
        }
        let note = self.signer.sign(size, &root);
        diesel::insert_into(access_log_checkpoint::table)
            .values((
                access_log_checkpoint::epoch.eq(epoch),
                access_log_checkpoint::size.eq(size as i64),
                access_log_checkpoint::root.eq(root.to_vec()),
                access_log_checkpoint::note.eq(&note),
            ))
            .execute(conn)?;
        Ok(Some((epoch, note)))
    }

    /// Records a committed checkpoint as signed by this instance.
    pub fn keep(&self, epoch: i32, note: &str) {
        self.witness.signed(epoch, note);
    }
}
