//! The delivery worker: one dispatcher thread claims due notices and hands them to sender
//! threads, which post them and hand back the outcome; the dispatcher records outcomes in
//! batches. There is a sender for every notice that may be in flight, and each recipient has its
//! own lane ([`super::lanes`]), so a receiver that never answers holds back only its own notices. It wakes when a transaction that queued notices commits in this process, when a
//! sender finishes, and at least every [`POLL`] (for retries that fall due and for notices other
//! instances queued). Stopping finishes the attempts in flight (for a few seconds at most);
//! anything cut short is sent again once its lease expires.

use super::delivery::{self, Attempt, Job};
use super::lanes::{Lanes, PER_RECIPIENT};
use crate::db::Db;
use crate::http_client::{ClientOptions, HttpClient};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest wait between two looks for due notices.
pub const POLL: Duration = Duration::from_millis(1000);
/// An attempt's whole deadline: connect, send and read the answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// Threads posting notices at once.
const SENDERS: usize = 32;
/// Notices claimed and not yet recorded, at most: one per sender, so none waits for a sender
/// that another recipient's silent receiver holds.
const IN_FLIGHT: usize = SENDERS;
/// How long a stop waits for attempts in flight.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// The running worker.
pub struct Worker {
    stop: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Worker {
    /// Starts the dispatcher and its senders. With `allow_private` (WEBHOOK_ALLOW_PRIVATE), any
    /// address may be connected to; otherwise only public ones, checked at every connection.
    pub fn start(db: Db, allow_private: bool) -> std::io::Result<Self> {
        let client = HttpClient::new(ClientOptions {
            timeout: ATTEMPT_TIMEOUT,
            max_body_bytes: 64 * 1024,
            allow_address: (!allow_private).then_some(super::url_rule::allowed as fn(&_) -> bool),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (jobs_tx, jobs_rx) = channel::<Job>();
        let (done_tx, done_rx) = channel::<Attempt>();
        let jobs_rx = Arc::new(Mutex::new(jobs_rx));
        // Senders are not joined at stop: one may be waiting out a receiver's 15 s, and it ends
        // by itself once the dispatcher is gone (what it sent is then sent again after its lease).
        for n in 0..SENDERS {
            let (client, jobs, done) = (client.clone(), jobs_rx.clone(), done_tx.clone());
            std::thread::Builder::new()
                .name(format!("notice-sender-{n}"))
                .spawn(move || sender(&client, &jobs, &done))?;
        }
        let mut threads = Vec::with_capacity(1);
        drop(done_tx);
        let flag = stop.clone();
        threads.push(
            std::thread::Builder::new()
                .name("notice-dispatcher".into())
                .spawn(move || dispatcher(&db, &flag, jobs_tx, &done_rx))?,
        );
        Ok(Self {
            stop,
            threads: Mutex::new(threads),
        })
    }

    /// Stops the worker: attempts in flight that finish within a few seconds are recorded.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        super::wake();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

fn sender(client: &HttpClient, jobs: &Mutex<Receiver<Job>>, done: &Sender<Attempt>) {
    loop {
        let job = match jobs.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        if done.send(delivery::send(client, job)).is_err() {
            return;
        }
        super::wake();
    }
}

fn dispatcher(db: &Db, stop: &AtomicBool, jobs: Sender<Job>, done: &Receiver<Attempt>) {
    let mut in_flight = 0usize;
    let mut outcomes: Vec<Attempt> = Vec::new();
    let mut lanes = Lanes::default();
    loop {
        let seen = super::generation();
        let before = outcomes.len();
        outcomes.extend(done.try_iter());
        for attempt in &outcomes[before..] {
            lanes.ended(attempt.recipient, attempt.receiver_trouble());
        }
        in_flight -= (outcomes.len() - before).min(in_flight);
        let stopping = stop.load(Ordering::SeqCst);
        let mut claimed_all = false;
        match db.get() {
            Ok(mut conn) => {
                let room = if stopping { 0 } else { IN_FLIGHT - in_flight };
                // Recording and the next claim share one transaction: one commit (and its WAL
                // flush) per round instead of two.
                let round = diesel::Connection::transaction(&mut *conn, |conn| {
                    if !outcomes.is_empty() {
                        delivery::record(conn, &outcomes)?;
                    }
                    if room == 0 {
                        return Ok(Vec::new());
                    }
                    delivery::claim(conn, room, PER_RECIPIENT, &lanes.limited())
                });
                match round {
                    Ok(claimed) => {
                        outcomes.clear();
                        claimed_all = room > 0 && claimed.len() == room;
                        for job in claimed {
                            in_flight += 1;
                            lanes.started(job.recipient);
                            if jobs.send(job).is_err() {
                                return;
                            }
                        }
                    }
                    // Outcomes are kept to record again; the leases outlive a short outage.
                    Err(e) => log::warn!("notices: a delivery round failed: {e}"),
                }
            }
            Err(e) => log::warn!("notices: no database connection: {e}"),
        }
        if stopping {
            finish(db, in_flight, outcomes, done);
            return;
        }
        // A full claim means more may be due: look again at once.
        if !claimed_all {
            super::wait(seen, POLL);
        }
    }
}

/// Waits briefly for the attempts in flight and records them (and any kept from before).
fn finish(db: &Db, mut in_flight: usize, mut outcomes: Vec<Attempt>, done: &Receiver<Attempt>) {
    let until = Instant::now() + STOP_GRACE;
    while in_flight > 0 {
        let Some(left) = until.checked_duration_since(Instant::now()) else {
            break;
        };
        match done.recv_timeout(left) {
            Ok(attempt) => {
                outcomes.push(attempt);
                in_flight -= 1;
            }
            Err(_) => break,
        }
    }
    if outcomes.is_empty() {
        return;
    }
    let recorded = db
        .get()
        .and_then(|mut conn| delivery::record(&mut conn, &outcomes));
    if let Err(e) = recorded {
        log::warn!("notices: attempts left unrecorded at stop (they will be sent again): {e}");
    }
}
