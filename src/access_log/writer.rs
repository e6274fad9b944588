//! Group commit for read entries: concurrent requests hand their entries to writer threads, each
//! of which commits everything waiting in one transaction on its own connection, then wakes every
//! request in that batch. One fsync then serves many reads, and no request waits on a lock.

use super::{record, NewEntry};
use crate::db::with_connect_timeout;
use crate::error::{ApiError, ApiResult};
use diesel::pg::PgConnection;
use diesel::Connection;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// Entries committed in one transaction at the most.
const MAX_BATCH: usize = 4096;

type Reply = oneshot::Sender<ApiResult<()>>;

enum Job {
    Append(Vec<NewEntry>, Reply),
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

fn run(url: &str, receiver: &Mutex<Receiver<Job>>) {
    let mut conn: Option<PgConnection> = None;
    loop {
        let Some((entries, replies, stop)) = next_batch(receiver) else {
            return;
        };
        if !replies.is_empty() {
            let result = commit(url, &mut conn, &entries);
            if result.is_ok() {
                crate::metrics::record_log_batch(entries.len());
            }
            for reply in replies {
                let _ = reply.send(match &result {
                    Ok(()) => Ok(()),
                    Err(_) => Err(ApiError::Unavailable),
                });
            }
        }
        if stop {
            return;
        }
    }
}

/// Waits for one job, then takes whatever else is already waiting, up to the batch limit.
fn next_batch(receiver: &Mutex<Receiver<Job>>) -> Option<(Vec<NewEntry>, Vec<Reply>, bool)> {
    let receiver = receiver.lock().ok()?;
    let mut entries = Vec::new();
    let mut replies = Vec::new();
    let mut job = loop {
        match receiver.recv_timeout(Duration::from_secs(1)) {
            Ok(job) => break job,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    };
    loop {
        match job {
            Job::Stop => return Some((entries, replies, true)),
            Job::Append(mut batch, reply) => {
                entries.append(&mut batch);
                replies.push(reply);
            }
        }
        if entries.len() >= MAX_BATCH {
            break;
        }
        match receiver.try_recv() {
            Ok(next) => job = next,
            Err(_) => break,
        }
    }
    Some((entries, replies, false))
}

fn commit(url: &str, conn: &mut Option<PgConnection>, entries: &[NewEntry]) -> ApiResult<()> {
    if conn.is_none() {
        *conn = Some(PgConnection::establish(url).map_err(|e| {
            crate::metrics::record_db_error();
            log::warn!("access-log writer cannot connect: {e}");
            ApiError::Unavailable
        })?);
    }
    let Some(c) = conn.as_mut() else {
        return Err(ApiError::Unavailable);
    };
    let result = c.transaction(|c| record(c, entries));
    if let Err(e) = &result {
        // A broken connection is replaced at the next batch.
        log::warn!("access-log group commit failed: {e}");
        *conn = None;
    }
    result
}
