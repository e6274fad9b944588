//! Group commit. Concurrent requests hand their entries to writer threads; each writer commits
//! everything waiting in one transaction on its own connection, then wakes every request of that
//! batch. One fsync then serves many reads, and no request waits on a lock.
//!
//! The hottest audited read, one subject by id, goes further: the writer fetches every subject
//! asked for in the batch with one query, inside the transaction that appends their entries, so
//! such a read costs the database a share of three statements and the request one hand-off.

use super::{record, NewEntry};
use crate::consents::batch::{record_changes, ChangeOutcome, PendingChange};
use crate::db::with_connect_timeout;
use crate::error::{ApiError, ApiResult};
use crate::subjects::model::{find_many, SubjectRow};
use diesel::pg::PgConnection;
use diesel::Connection;
use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;
use uuid::Uuid;

/// Entries committed in one transaction at the most.
const MAX_BATCH: usize = 4096;

type Reply = oneshot::Sender<ApiResult<()>>;
type SubjectReply = oneshot::Sender<ApiResult<Option<SubjectRow>>>;
type ConsentReply = oneshot::Sender<ApiResult<ChangeOutcome>>;

enum Job {
    Append(Vec<NewEntry>, Reply),
    /// Fetch the subject; if it exists, append the entry in the same transaction.
    ReadSubject(Uuid, NewEntry, SubjectReply),
    /// Record the consent change; if it names a subject and a purpose, append the entry with it.
    ChangeConsent(PendingChange, NewEntry, ConsentReply),
    Stop,
}

/// The handle requests use; clones share the writer threads.
#[derive(Clone)]
pub struct LogWriter {
    jobs: Sender<Job>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl LogWriter {
    /// Starts `count` writer threads for the database at `url`.
    pub fn start(url: &str, count: usize) -> std::io::Result<Self> {
        let (jobs, receiver) = mpsc::channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut threads = Vec::new();
        for n in 0..count.max(1) {
            let receiver = Arc::clone(&receiver);
            let url = with_connect_timeout(url);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("access-log-{n}"))
                    .spawn(move || run(&url, &receiver))?,
            );
        }
        Ok(Self {
            jobs,
            threads: Arc::new(Mutex::new(threads)),
        })
    }

    /// Appends entries; resolves once they are committed, or with 503 when they cannot be.
    pub async fn append(&self, entries: Vec<NewEntry>) -> ApiResult<()> {
        let (reply, done) = oneshot::channel();
        self.jobs
            .send(Job::Append(entries, reply))
            .map_err(|_| ApiError::Unavailable)?;
        done.await.unwrap_or(Err(ApiError::Unavailable))
    }

    /// Reads one subject and durably logs the read: `None` (and no entry) when there is no such
    /// subject, 503 when the entry cannot be committed.
    pub async fn read_subject(&self, id: Uuid, entry: NewEntry) -> ApiResult<Option<SubjectRow>> {
        let (reply, done) = oneshot::channel();
        self.jobs
            .send(Job::ReadSubject(id, entry, reply))
            .map_err(|_| ApiError::Unavailable)?;
        done.await.unwrap_or(Err(ApiError::Unavailable))
    }

    /// Records a consent change, its event and its entry in one transaction shared with the
    /// other changes and reads waiting at the same time.
    pub async fn change_consent(
        &self,
        change: PendingChange,
        entry: NewEntry,
    ) -> ApiResult<ChangeOutcome> {
        let (reply, done) = oneshot::channel();
        self.jobs
            .send(Job::ChangeConsent(change, entry, reply))
            .map_err(|_| ApiError::Unavailable)?;
        done.await.unwrap_or(Err(ApiError::Unavailable))
    }

    /// Commits everything already handed over, then stops the threads.
    pub fn shutdown(&self) {
        let Ok(mut threads) = self.threads.lock() else {
            return;
        };
        for _ in threads.iter() {
            let _ = self.jobs.send(Job::Stop);
        }
        for thread in threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// What one transaction carries.
#[derive(Default)]
struct Batch {
    appends: Vec<(Vec<NewEntry>, Reply)>,
    reads: Vec<(Uuid, NewEntry, SubjectReply)>,
    changes: Vec<(PendingChange, NewEntry, ConsentReply)>,
    entries: usize,
}

impl Batch {
    /// Splits into one batch per job, so that one bad job cannot fail the others.
    fn singles(self) -> Vec<Batch> {
        let appends = self.appends.into_iter().map(|a| Batch {
            entries: a.0.len(),
            appends: vec![a],
            ..Batch::default()
        });
        let reads = self.reads.into_iter().map(|r| Batch {
            entries: 1,
            reads: vec![r],
            ..Batch::default()
        });
        let changes = self.changes.into_iter().map(|c| Batch {
            entries: 1,
            changes: vec![c],
            ..Batch::default()
        });
        appends.chain(reads).chain(changes).collect()
    }

    fn jobs(&self) -> usize {
        self.appends.len() + self.reads.len() + self.changes.len()
    }
}

fn run(url: &str, receiver: &Mutex<Receiver<Job>>) {
    let mut conn: Option<PgConnection> = None;
    loop {
        let Some((batch, stop)) = next_batch(receiver) else {
            return;
        };
        if batch.jobs() > 0 {
            commit_and_answer(url, &mut conn, batch);
        }
        if stop {
            return;
        }
    }
}

/// Waits for one job, then takes whatever else is already waiting, up to the batch limit.
fn next_batch(receiver: &Mutex<Receiver<Job>>) -> Option<(Batch, bool)> {
    let receiver = receiver.lock().ok()?;
    let mut batch = Batch::default();
    let mut job = loop {
        match receiver.recv_timeout(Duration::from_secs(1)) {
            Ok(job) => break job,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    };
    loop {
        match job {
            Job::Stop => return Some((batch, true)),
            Job::Append(entries, reply) => {
                batch.entries += entries.len();
                batch.appends.push((entries, reply));
            }
            Job::ReadSubject(id, entry, reply) => {
                batch.entries += 1;
                batch.reads.push((id, entry, reply));
            }
            Job::ChangeConsent(change, entry, reply) => {
                batch.entries += 1;
                batch.changes.push((change, entry, reply));
            }
        }
        if batch.entries >= MAX_BATCH {
            break;
        }
        match receiver.try_recv() {
            Ok(next) => job = next,
            Err(_) => break,
        }
    }
    Some((batch, false))
}

/// Commits a batch and answers each of its requests. When the batch fails for a reason other
/// than the database being out of reach, its jobs are retried one by one: a single bad entry
/// must not cost every other request of the batch its answer.
fn commit_and_answer(url: &str, conn: &mut Option<PgConnection>, batch: Batch) {
    let ids: Vec<Uuid> = batch.reads.iter().map(|(id, _, _)| *id).collect();
    let pending: Vec<PendingChange> = batch.changes.iter().map(|(c, _, _)| c.clone()).collect();
    let result = with_connection(url, conn, |c| {
        c.transaction(|c| {
            let outcomes = if pending.is_empty() {
                Vec::new()
            } else {
                record_changes(c, &pending)?
            };
            let found: HashMap<Uuid, SubjectRow> = if ids.is_empty() {
                HashMap::new()
            } else {
                find_many(c, &ids)?
                    .into_iter()
                    .map(|row| (row.id, row))
                    .collect()
            };
            let mut entries: Vec<NewEntry> = Vec::with_capacity(batch.entries);
            for (appended, _) in &batch.appends {
                entries.extend_from_slice(appended);
            }
            entries.extend(
                batch
                    .reads
                    .iter()
                    .filter(|(id, _, _)| found.contains_key(id))
                    .map(|(_, entry, _)| entry.clone()),
            );
            entries.extend(
                batch
                    .changes
                    .iter()
                    .zip(&outcomes)
                    .filter(|(_, outcome)| matches!(outcome, ChangeOutcome::Recorded { .. }))
                    .map(|((_, entry, _), _)| entry.clone()),
            );
            record(c, &entries)?;
            Ok((found, outcomes, entries.len()))
        })
    });
    match result {
        Ok((found, outcomes, written)) => {
            for ((_, _, reply), outcome) in batch.changes.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
            crate::metrics::record_log_batch(written);
            for (_, reply) in batch.appends {
                let _ = reply.send(Ok(()));
            }
            for (id, _, reply) in batch.reads {
                let _ = reply.send(Ok(found.get(&id).cloned()));
            }
        }
        Err(Failure::Statement) if batch.jobs() > 1 => {
            for single in batch.singles() {
                commit_and_answer(url, conn, single);
            }
        }
        Err(_) => {
            for (_, reply) in batch.appends {
                let _ = reply.send(Err(ApiError::Unavailable));
            }
            for (_, _, reply) in batch.reads {
                let _ = reply.send(Err(ApiError::Unavailable));
            }
            for (_, _, reply) in batch.changes {
                let _ = reply.send(Err(ApiError::Unavailable));
            }
        }
    }
}

/// Why a batch did not commit.
enum Failure {
    /// No connection to the database.
    Unreachable,
    /// The transaction failed.
    Statement,
}

/// Runs `work` on the writer's connection, connecting first when needed; a failure drops the
/// connection so that the next batch starts on a fresh one.
fn with_connection<T>(
    url: &str,
    conn: &mut Option<PgConnection>,
    work: impl FnOnce(&mut PgConnection) -> ApiResult<T>,
) -> Result<T, Failure> {
    if conn.is_none() {
        *conn = Some(PgConnection::establish(url).map_err(|e| {
            crate::metrics::record_db_error();
            log::warn!("access-log writer cannot connect: {e}");
            Failure::Unreachable
        })?);
    }
    let Some(c) = conn.as_mut() else {
        return Err(Failure::Unreachable);
    };
    work(c).map_err(|e| {
        log::warn!("access-log group commit failed: {e}");
        *conn = None;
        match e {
            ApiError::Unavailable => Failure::Unreachable,
            _ => Failure::Statement,
        }
    })
}
