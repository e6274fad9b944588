//! Never a fork: what this instance has signed or seen of the checkpoints, kept in its `DATA_DIR`
//! (outside the database, so that a database that went back in time cannot take it along), and
//! the alarm raised when the database's tree no longer extends it.
//!
//! Every checkpoint this instance signs, and the newest it reads from the database (looked at
//! every [`LOOK_EVERY`] and before one is served), is recorded before it is served. Before signing,
//! the new tree must extend the newest recorded one; a shorter or different tree stops the signing,
//! logs an `ALARM` and shows in `/readyz` until an operator's signed rollback statement (a new
//! epoch, see [`super::rollback`]) covers what was recorded, or the missing entries come back.

use super::checkpoint;
use super::merkle::Hash;
use super::tree;
use crate::db::schema::{access_log_checkpoint, access_log_rollback};
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the database's newest checkpoint and tree are compared with the recorded one.
pub const LOOK_EVERY: Duration = Duration::from_secs(2);
/// How long sealing rounds must fail one after another before `/readyz` says so.
const FAILING_FOR: Duration = Duration::from_secs(5);

/// The alarm names `/readyz` lists.
pub const CHECKPOINTS_REFUSED: &str = "checkpoints-refused";
pub const SEALER_FAILING: &str = "sealer-failing";

/// A checkpoint as recorded: its epoch (the number of rollbacks accepted before it) and note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recorded {
    pub epoch: i32,
    pub note: String,
    #[serde(skip)]
    size: u64,
    #[serde(skip)]
    root: Hash,
}

impl Recorded {
    /// A recorded checkpoint from its epoch and signed note.
    pub fn from_note(epoch: i32, note: String) -> Result<Self, String> {
        let cp = checkpoint::parse(&note)?;
        Ok(Self {
            epoch,
            note,
            size: cp.size,
            root: cp.root,
        })
    }

    /// The tree size it commits to.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Its root.
    pub fn root(&self) -> Hash {
        self.root
    }

    fn newer_than(&self, other: &Recorded) -> bool {
        (self.epoch, self.size) > (other.epoch, other.size)
    }
}

#[derive(Default)]
struct State {
    newest: Option<Recorded>,
    refused: Option<String>,
    /// The record could not be read: nothing is signed until an operator repairs it.
    broken: Option<String>,
    looked: Option<Instant>,
    failing_since: Option<Instant>,
}

/// This instance's record of checkpoints and its alarms.
pub struct Witness {
    newest_file: PathBuf,
    signed_file: PathBuf,
    state: Mutex<State>,
}

/// The alarms as gauges of `/metrics`: 1 while standing, else 0.
pub fn gauges(witness: &Witness) -> Vec<crate::metrics::ScrapedGauge> {
    let alarms = witness.alarms();
    vec![
        (
            "access_log_checkpoints_refused",
            "1 while checkpoints are not signed because the database does not extend the recorded one",
            i64::from(alarms.contains(&CHECKPOINTS_REFUSED)),
        ),
        (
            "access_log_sealer_failing",
            "1 while access-log sealing rounds have been failing one after another",
            i64::from(alarms.contains(&SEALER_FAILING)),
        ),
    ]
}

/// The newest checkpoint in the database: (epoch, note).
pub fn latest_stored(conn: &mut PgConnection) -> ApiResult<Option<(i32, String)>> {
    Ok(access_log_checkpoint::table
        .select((access_log_checkpoint::epoch, access_log_checkpoint::note))
        .order((
            access_log_checkpoint::epoch.desc(),
            access_log_checkpoint::size.desc(),
        ))
        .first(conn)
        .optional()?)
}

/// The current epoch: the number of rollbacks recorded.
pub fn current_epoch(conn: &mut PgConnection) -> ApiResult<i32> {
    let epoch: Option<i32> = access_log_rollback::table
        .select(diesel::dsl::max(access_log_rollback::epoch))
        .first(conn)?;
    Ok(epoch.unwrap_or(0))
}

/// True when the stored tree's first `size` leaves have this root. A tree that lacks the hashes
/// (rows removed) does not.
pub fn tree_has(conn: &mut PgConnection, size: u64, root: &Hash) -> ApiResult<bool> {
    if tree::stored_size(conn)? < size {
        return Ok(false);
    }
    match tree::root_at(conn, size) {
        Ok(r) => Ok(r == *root),
        Err(ApiError::Internal(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

impl Witness {
    /// The record kept in `data_dir` (`checkpoints/`); an instance upgraded from the single
    /// `last-checkpoint` file starts from it.
    pub fn open(data_dir: &Path) -> Self {
        let dir = data_dir.join("checkpoints");
        let newest_file = dir.join("newest.json");
        let mut state = State::default();
        let loaded = match std::fs::read_to_string(&newest_file) {
            Ok(text) => serde_json::from_str::<Recorded>(&text)
                .map_err(|e| e.to_string())
                .and_then(|r| Recorded::from_note(r.epoch, r.note))
                .map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::read_to_string(data_dir.join("last-checkpoint")) {
                    Ok(note) => Recorded::from_note(0, note).map(Some),
                    Err(_) => Ok(None),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        match loaded {
            Ok(newest) => state.newest = newest,
            Err(e) => {
                let why = format!(
                    "the recorded checkpoint {} is unreadable: {e}",
                    newest_file.display()
                );
                state.refused = Some(why.clone());
                state.broken = Some(why);
            }
        }
        Self {
            signed_file: dir.join("signed.log"),
            newest_file,
            state: Mutex::new(state),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The newest checkpoint recorded (the last consistent one).
    pub fn newest(&self) -> Option<Recorded> {
        self.state().newest.clone()
    }

    /// The alarms standing now, by name.
    pub fn alarms(&self) -> Vec<&'static str> {
        let state = self.state();
        let mut out = Vec::new();
        if state.refused.is_some() {
            out.push(CHECKPOINTS_REFUSED);
        }
        if state
            .failing_since
            .is_some_and(|since| since.elapsed() >= FAILING_FOR)
        {
            out.push(SEALER_FAILING);
        }
        out
    }

    /// Why signing is refused, if it is.
    pub fn refused(&self) -> Option<String> {
        self.state().refused.clone()
    }

    /// Notes how a sealing round ended; rounds failing for a while raise `sealer-failing`.
    pub fn round_ended(&self, error: Option<&ApiError>) {
        let mut state = self.state();
        match error {
            None => state.failing_since = None,
            Some(e) => {
                let since = *state.failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= FAILING_FOR {
                    log::error!(target: "alarm", "ALARM: access-log sealing has failed for {} s: {e}", since.elapsed().as_secs());
                }
            }
        }
    }

    /// Records a checkpoint this instance signed (after its commit).
    pub fn signed(&self, epoch: i32, note: &str) {
        let appended = std::fs::create_dir_all(self.dir()).and_then(|()| {
            use std::io::Write;
            let mut log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.signed_file)?;
            writeln!(log, "{}", serde_json::json!({"epoch": epoch, "note": note}))?;
            log.sync_data()
        });
        if let Err(e) = appended {
            log::error!(target: "alarm", "ALARM: cannot record a signed checkpoint in {}: {e}", self.signed_file.display());
        }
        if let Ok(recorded) = Recorded::from_note(epoch, note.to_owned()) {
            let mut state = self.state();
            if state.newest.as_ref().is_none_or(|n| recorded.newer_than(n)) {
                if let Err(why) = self.keep(&mut state, recorded) {
                    state.refused = Some(why);
                }
            }
        }
    }

    fn dir(&self) -> &Path {
        self.newest_file.parent().unwrap_or(Path::new("."))
    }

    /// Writes the newest record durably (write, fsync, rename), then holds it in memory.
    fn keep(&self, state: &mut State, recorded: Recorded) -> Result<(), String> {
        let tmp = self.newest_file.with_extension("tmp");
        let written = std::fs::create_dir_all(self.dir())
            .and_then(|()| {
                let text = serde_json::to_string(&recorded).map_err(std::io::Error::other)?;
                let file = std::fs::File::create(&tmp)?;
                use std::io::Write;
                (&file).write_all(text.as_bytes())?;
                file.sync_all()
            })
            .and_then(|()| std::fs::rename(&tmp, &self.newest_file));
        match written {
            Ok(()) => {
                state.newest = Some(recorded);
                Ok(())
            }
            Err(e) => Err(format!(
                "the newest checkpoint cannot be recorded in {}: {e}",
                self.newest_file.display()
            )),
        }
    }

    /// Compares the database with the record when [`LOOK_EVERY`] has passed (or `now`): records a
    /// newer consistent checkpoint, raises or lifts the alarm. True when signing may go on.
    pub fn look(&self, conn: &mut PgConnection, now: bool) -> ApiResult<bool> {
        let mut state = self.state();
        if !now && state.looked.is_some_and(|at| at.elapsed() < LOOK_EVERY) {
            return Ok(state.refused.is_none());
        }
        let verdict = self.compare(conn, &mut state)?;
        state.looked = Some(Instant::now());
        match (verdict, state.refused.take()) {
            (Err(why), before) => {
                if before.as_deref() != Some(why.as_str()) {
                    log::error!(target: "alarm", "ALARM: access-log checkpoints are no longer signed: {why}");
                }
                state.refused = Some(why);
            }
            (Ok(()), Some(_)) => {
                log::warn!("access-log checkpoints are signed again: the database's tree extends the recorded checkpoint");
            }
            (Ok(()), None) => {}
        }
        Ok(state.refused.is_none())
    }

    /// `Ok(Err(why))` when the database's tree does not extend the record (and no rollback
    /// statement covers it); records the database's newest checkpoint when it is newer.
    fn compare(&self, conn: &mut PgConnection, state: &mut State) -> ApiResult<Result<(), String>> {
        if let Some(why) = &state.broken {
            return Ok(Err(why.clone()));
        }
        if let Some(newest) = state.newest.clone() {
            if !tree_has(conn, newest.size, &newest.root)? {
                return match self.covering_rollback(conn, &newest)? {
                    Some(rebased) => {
                        log::warn!(
                            "a rollback statement (epoch {}) covers the recorded checkpoint of {} entries: signing resumes from {} entries",
                            rebased.epoch, newest.size, rebased.size
                        );
                        Ok(self.keep(state, rebased))
                    }
                    None => Ok(Err(format!(
                        "the database's tree does not extend the checkpoint of {} entries this instance recorded (it holds {}): a restore, a failover that lost commits, or rows removed; see `planpro-privacy accept-rollback`",
                        newest.size,
                        tree::stored_size(conn)?
                    ))),
                };
            }
        }
        let Some((epoch, note)) = latest_stored(conn)? else {
            return Ok(Ok(()));
        };
        let latest = Recorded::from_note(epoch, note)
            .map_err(|e| ApiError::internal(format!("a stored checkpoint is unreadable: {e}")))?;
        if state.newest.as_ref().is_some_and(|n| !latest.newer_than(n)) {
            return Ok(Ok(()));
        }
        if !tree_has(conn, latest.size, &latest.root)? {
            return Ok(Err(format!(
                "the database's newest checkpoint ({} entries) does not match its own tree",
                latest.size
            )));
        }
        Ok(self.keep(state, latest))
    }

    /// The newest checkpoint of the newest rollback statement that covers `recorded` (made after
    /// it, from at least its size), when the database's tree still holds that checkpoint.
    fn covering_rollback(
        &self,
        conn: &mut PgConnection,
        recorded: &Recorded,
    ) -> ApiResult<Option<Recorded>> {
        let statement: Option<(i32, i64)> = access_log_rollback::table
            .filter(access_log_rollback::epoch.gt(recorded.epoch))
            .filter(access_log_rollback::old_size.ge(recorded.size as i64))
            .order(access_log_rollback::epoch.desc())
            .select((access_log_rollback::epoch, access_log_rollback::new_size))
            .first(conn)
            .optional()?;
        let Some((epoch, new_size)) = statement else {
            return Ok(None);
        };
        let note: Option<String> = access_log_checkpoint::table
            .filter(access_log_checkpoint::epoch.eq(epoch))
            .filter(access_log_checkpoint::size.eq(new_size))
            .select(access_log_checkpoint::note)
            .first(conn)
            .optional()?;
        let Some(rebased) = note.and_then(|n| Recorded::from_note(epoch, n).ok()) else {
            return Ok(None);
        };
        Ok(tree_has(conn, rebased.size, &rebased.root)?.then_some(rebased))
    }

    /// The checkpoint to serve: the database's newest once recorded (and consistent), else the
    /// newest recorded one, which stays served while the alarm stands.
    pub fn to_serve(&self, conn: &mut PgConnection) -> ApiResult<Option<String>> {
        let newer = match (latest_stored(conn)?, self.newest()) {
            (Some((epoch, note)), Some(newest)) => {
                Recorded::from_note(epoch, note).is_ok_and(|l| l.newer_than(&newest))
            }
            (Some(_), None) => true,
            (None, _) => false,
        };
        if newer {
            self.look(conn, true)?;
        }
        Ok(self.newest().map(|r| r.note))
    }

    /// True when signing a tree of `size` leaves with `root` extends the record.
    pub fn extends(&self, conn: &mut PgConnection, size: u64, root: &Hash) -> ApiResult<bool> {
        if !self.look(conn, true)? {
            return Ok(false);
        }
        let Some(newest) = self.newest() else {
            return Ok(true);
        };
        if newest.epoch > current_epoch(conn)? || size < newest.size {
            return Ok(false);
        }
        if size == newest.size {
            return Ok(*root == newest.root);
        }
        tree_has(conn, newest.size, &newest.root)
    }
}
