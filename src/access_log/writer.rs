//! Group commit. Concurrent requests hand their jobs to writer threads; each writer runs
//! everything waiting in one transaction on its own connection, appends every access-log entry
//! the jobs produced, commits, and only then answers each request of that batch. One fsync then
//! serves many requests, and no request waits on a lock.
//!
//! The writer knows no resource: each batched operation is a [`GroupOp`] in its resource's
//! folder, registered once in `crate::batched`. A batch that fails for a reason other than the
//! database being out of reach is retried job by job, so that one bad job fails only its own
//! request.
//!
//! A hung database holds no request for long: a request waits for its answer only until its
//! deadline, and a job whose request no longer waits is dropped, or its batch rolled back and
//! run again without it, so that no change commits after its caller was answered 503. A
//! connection idle for a while is checked before it is used again, so the first batch after
//! the database restarted does not fail on a dead connection.

use super::group_commit::{AppendEntries, Group, GroupOp, GroupOps, Pending};
use super::{record, NewEntry};
use crate::db::with_connect_timeout;
use crate::error::{ApiError, ApiResult};
use diesel::pg::PgConnection;
use diesel::Connection;
use std::any::TypeId;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// A writer connection idle this long is checked (one `SELECT 1`) before its next batch.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Entries (about: the weight of the jobs) committed in one transaction at the most.
const MAX_BATCH: usize = 4096;

enum Message {
    Job(Box<dyn Pending>),
    Stop,
}

/// The handle requests use; clones share the writer threads.
#[derive(Clone)]
pub struct LogWriter {
    jobs: Sender<Message>,
    ops: Arc<GroupOps>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// How long a request waits for its batch outside a request's own deadline.
    budget: Duration,
}

impl LogWriter {
    /// Starts `count` writer threads for the database at `url`, running `ops`; a request waits
    /// for its batch until its deadline (or `budget` outside a request).
    pub fn start(
        url: &str,
        count: usize,
        ops: GroupOps,
        budget: Duration,
    ) -> std::io::Result<Self> {
        let (jobs, receiver) = mpsc::channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let ops = Arc::new(ops);
        let mut threads = Vec::new();
        for n in 0..count.max(1) {
            let receiver = Arc::clone(&receiver);
            let ops = Arc::clone(&ops);
            let url = with_connect_timeout(url);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("access-log-{n}"))
                    .spawn(move || run(&url, &receiver, &ops))?,
            );
        }
        Ok(Self {
            jobs,
            ops,
            threads: Arc::new(Mutex::new(threads)),
            budget,
        })
    }

    /// Runs one job of `O` in the next batch; resolves with its answer once the batch has
    /// committed, or with 503 when it cannot be.
    pub async fn submit<O: GroupOp>(&self, job: O::Job) -> ApiResult<O::Answer> {
        if self.ops.rank(TypeId::of::<O>()).is_none() {
            return Err(ApiError::internal(format!(
                "{} is not registered with the group commit",
                std::any::type_name::<O>()
            )));
        }
        let (reply, done) = oneshot::channel();
        self.jobs
            .send(Message::Job(Box::new(Group::<O>::single(job, reply))))
            .map_err(|_| ApiError::Unavailable)?;
        let deadline = crate::db::current_deadline().unwrap_or(Instant::now() + self.budget);
        match tokio::time::timeout_at(deadline.into(), done).await {
            Ok(answer) => answer.unwrap_or(Err(ApiError::Unavailable)),
            Err(_) => {
                crate::metrics::record_db_error();
                log::warn!("the access-log writer did not answer before the deadline");
                Err(ApiError::Unavailable)
            }
        }
    }

    /// Appends entries; resolves once they are committed, or with 503 when they cannot be.
    pub async fn append(&self, entries: Vec<NewEntry>) -> ApiResult<()> {
        self.submit::<AppendEntries>(entries).await
    }

    /// Commits everything already handed over, then stops the threads.
    pub fn shutdown(&self) {
        let Ok(mut threads) = self.threads.lock() else {
            return;
        };
        for _ in threads.iter() {
            let _ = self.jobs.send(Message::Stop);
        }
        for thread in threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// What one transaction carries: a group per operation, in the order the operations run.
#[derive(Default)]
struct Batch {
    groups: Vec<(usize, Box<dyn Pending>)>,
}

impl Batch {
    fn add(&mut self, rank: usize, job: Box<dyn Pending>) {
        let op = job.op();
        if let Some((_, group)) = self.groups.iter_mut().find(|(_, g)| g.op() == op) {
            group.absorb(job);
            return;
        }
        let at = self.groups.partition_point(|(r, _)| *r <= rank);
        self.groups.insert(at, (rank, job));
    }

    fn jobs(&self) -> usize {
        self.groups.iter().map(|(_, g)| g.jobs()).sum()
    }

    fn abandoned(&self) -> bool {
        self.groups.iter().any(|(_, g)| g.abandoned())
    }

    fn drop_abandoned(&mut self) {
        for (_, group) in &mut self.groups {
            group.drop_abandoned();
        }
        self.groups.retain(|(_, g)| g.jobs() > 0);
    }

    /// One batch per job.
    fn singles(self) -> Vec<Batch> {
        self.groups
            .into_iter()
            .flat_map(|(rank, group)| group.split().into_iter().map(move |g| (rank, g)))
            .map(|single| Batch {
                groups: vec![single],
            })
            .collect()
    }
}

fn run(url: &str, receiver: &Mutex<Receiver<Message>>, ops: &GroupOps) {
    let mut conn: Option<WriterConn> = None;
    loop {
        let Some((batch, stop)) = next_batch(receiver, ops) else {
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
fn next_batch(receiver: &Mutex<Receiver<Message>>, ops: &GroupOps) -> Option<(Batch, bool)> {
    let receiver = receiver.lock().ok()?;
    let mut batch = Batch::default();
    let mut weight = 0;
    let mut message = loop {
        match receiver.recv_timeout(Duration::from_secs(1)) {
            Ok(message) => break message,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    };
    loop {
        let Message::Job(job) = message else {
            return Some((batch, true));
        };
        weight += job.weight();
        match ops.rank(job.op()) {
            Some(rank) => batch.add(rank, job),
            None => job.fail(|| ApiError::internal("an unregistered group-commit operation")),
        }
        if weight >= MAX_BATCH {
            break;
        }
        match receiver.try_recv() {
            Ok(next) => message = next,
            Err(_) => break,
        }
    }
    Some((batch, false))
}

/// Commits a batch and answers each of its requests.
fn commit_and_answer(url: &str, conn: &mut Option<WriterConn>, mut batch: Batch) {
    batch.drop_abandoned();
    if batch.jobs() == 0 {
        return;
    }
    let result = with_connection(url, conn, |c| {
        c.transaction(|c| {
            let written = apply_all(c, &mut batch)?;
            // The last moment to keep a change from committing behind an answered 503.
            if batch.abandoned() {
                return Err(ApiError::Client {
                    status: actix_web::http::StatusCode::REQUEST_TIMEOUT,
                    code: "abandoned",
                    detail: String::new(),
                });
            }
            Ok(written)
        })
    });
    crate::db::after_commit::transaction_ended(result.is_ok());
    match result {
        Ok(written) => {
            crate::metrics::record_log_batch(written);
            for (_, group) in batch.groups {
                group.answer();
            }
        }
        Err(Failure::Abandoned) => commit_and_answer(url, conn, batch),
        Err(Failure::Statement) if batch.jobs() > 1 => {
            for single in batch.singles() {
                commit_and_answer(url, conn, single);
            }
        }
        Err(_) => {
            for (_, group) in batch.groups {
                group.fail(|| ApiError::Unavailable);
            }
        }
    }
}

/// Runs every group of the batch, then appends the entries they produced; returns how many.
fn apply_all(conn: &mut PgConnection, batch: &mut Batch) -> ApiResult<usize> {
    let mut entries: Vec<NewEntry> = Vec::new();
    for (_, group) in &mut batch.groups {
        group.apply(conn, &mut entries)?;
    }
    record(conn, &entries)?;
    Ok(entries.len())
}

/// Why a batch did not commit.
enum Failure {
    /// No connection to the database.
    Unreachable,
    /// The transaction failed.
    Statement,
    /// A request of the batch stopped waiting; the batch was rolled back.
    Abandoned,
}

/// A writer's connection and when it was last used.
struct WriterConn {
    conn: PgConnection,
    used: Instant,
}

/// Runs `work` on the writer's connection, connecting first when needed; a failure drops the
/// connection so that the next batch starts on a fresh one.
fn with_connection<T>(
    url: &str,
    conn: &mut Option<WriterConn>,
    work: impl FnOnce(&mut PgConnection) -> ApiResult<T>,
) -> Result<T, Failure> {
    use diesel::connection::SimpleConnection;
    let idle = conn
        .as_ref()
        .is_some_and(|c| c.used.elapsed() >= IDLE_CHECK);
    if idle
        && conn
            .as_mut()
            .is_some_and(|c| c.conn.batch_execute("SELECT 1").is_err())
    {
        log::info!("access-log writer: the idle connection is gone; reconnecting");
        *conn = None;
    }
    if conn.is_none() {
        let fresh = PgConnection::establish(url).map_err(|e| {
            crate::metrics::record_db_error();
            log::warn!("access-log writer cannot connect: {e}");
            Failure::Unreachable
        })?;
        *conn = Some(WriterConn {
            conn: fresh,
            used: Instant::now(),
        });
    }
    let Some(c) = conn.as_mut() else {
        return Err(Failure::Unreachable);
    };
    let result = work(&mut c.conn);
    c.used = Instant::now();
    result.map_err(|e| {
        if let ApiError::Client {
            code: "abandoned", ..
        } = e
        {
            return Failure::Abandoned;
        }
        log::warn!("access-log group commit failed: {e}");
        *conn = None;
        match e {
            ApiError::Unavailable => Failure::Unreachable,
            _ => Failure::Statement,
        }
    })
}
