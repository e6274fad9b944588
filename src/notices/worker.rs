//! The delivery worker: one dispatcher thread claims due notices and hands them to sender
//! threads, which post them and hand back the outcome; the dispatcher records outcomes in
//! batches. There is a sender for every notice that may be in flight, and each recipient has its
//! own lane ([`super::lanes`]), so a receiver that never answers holds back only its own notices. It wakes when a transaction that queued notices commits in this process, when a
//! sender finishes, and at least every [`POLL`] (for retries that fall due and for notices other
//! instances queued). Stopping finishes the attempts in flight (for a few seconds at most);
//! anything cut short is sent again once its lease expires.

use super::delivery::{self, Attempt, Job};
use super::lanes::{Lanes, PER_RECIPIENT};
use crate::background::{Doorbell, Next, Task};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::http_client::{ClientOptions, HttpClient};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
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

/// The dispatcher: the job the background driver activates (see the module's doc).
pub struct Worker {
    db: Db,
    jobs: Sender<Job>,
    done: Receiver<Attempt>,
    in_flight: usize,
    /// Outcomes not yet recorded (kept to record again after a failed round).
    outcomes: Vec<Attempt>,
    lanes: Lanes,
}

impl Worker {
    /// The dispatcher, with its senders started. With `allow_private` (WEBHOOK_ALLOW_PRIVATE),
    /// any address may be connected to; otherwise only public ones, checked at every connection.
    pub fn start(db: Db, allow_private: bool) -> std::io::Result<Self> {
        let client = HttpClient::new(ClientOptions {
            timeout: ATTEMPT_TIMEOUT,
            max_body_bytes: 64 * 1024,
            allow_address: (!allow_private).then_some(super::url_rule::allowed as fn(&_) -> bool),
        });
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
        Ok(Self {
            db,
            jobs: jobs_tx,
            done: done_rx,
            in_flight: 0,
            outcomes: Vec::new(),
            lanes: Lanes::default(),
        })
    }

    /// Records the outcomes gathered and, unless `stopping`, claims what is due; whether the
    /// claim was full (more may be due).
    fn round(&mut self, stopping: bool) -> ApiResult<bool> {
        let before = self.outcomes.len();
        self.outcomes.extend(self.done.try_iter());
        for attempt in &self.outcomes[before..] {
            self.lanes
                .ended(attempt.recipient, attempt.receiver_trouble());
        }
        self.in_flight -= (self.outcomes.len() - before).min(self.in_flight);
        let mut conn = self.db.get()?;
        let room = if stopping {
            0
        } else {
            IN_FLIGHT - self.in_flight
        };
        let outcomes = &self.outcomes;
        let limited = self.lanes.limited();
        // Recording and the next claim share one transaction: one commit (and its WAL flush)
        // per round instead of two.
        let claimed = diesel::Connection::transaction(&mut *conn, |conn| {
            if !outcomes.is_empty() {
                delivery::record(conn, outcomes)?;
            }
            if room == 0 {
                return Ok(Vec::new());
            }
            delivery::claim(conn, room, PER_RECIPIENT, &limited)
        })?;
        self.outcomes.clear();
        let full = room > 0 && claimed.len() == room;
        for job in claimed {
            self.in_flight += 1;
            self.lanes.started(job.recipient);
            if self.jobs.send(job).is_err() {
                return Err(ApiError::internal("the notice senders are gone"));
            }
        }
        Ok(full)
    }
}

impl Task for Worker {
    fn name(&self) -> &'static str {
        "notice-dispatcher"
    }

    fn period(&self) -> Duration {
        POLL
    }

    fn bell(&self) -> Doorbell {
        Doorbell::Shared(&super::BELL)
    }

    fn activate(&mut self, _: &AtomicBool) -> ApiResult<Next> {
        // A full claim means more may be due: look again at once. Outcomes of a failed round
        // are kept to record again; the leases outlive a short outage.
        match self.round(false) {
            Ok(true) => Ok(Next::Now),
            Ok(false) => Ok(Next::Period),
            Err(ApiError::Unavailable) => Ok(Next::Period),
            Err(e) => Err(ApiError::internal(format!("a delivery round failed: {e}"))),
        }
    }

    /// Finishes the attempts in flight (for a few seconds at most) and records them.
    fn stop(&mut self) {
        if let Err(e) = self.round(true) {
            log::warn!("notices: a delivery round failed: {e}");
        }
        let outcomes = std::mem::take(&mut self.outcomes);
        finish(&self.db, self.in_flight, outcomes, &self.done);
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
