//! The one driver of periodic work. Each job is one type implementing [`Task`], registered in
//! one line at start-up; the driver owns what every job would otherwise write again: its thread,
//! its period, on-demand wake-ups ([`Driver::activate`], or the job's own [`Bell`]), shutdown,
//! and its status (last run, duration, last error), which `/metrics` shows. It names no job.

use crate::error::ApiError;
pub use crate::metrics::TaskStatus as Status;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// When a task wants its next activation (an on-demand wake-up may come sooner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// At once: the last activation left work behind.
    Now,
    /// After the task's [`Task::period`].
    Period,
    /// After this long.
    After(Duration),
}

/// When a task stops relative to the access log's writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before the writers: work that may still produce entries.
    Work,
    /// After the writers have committed every pending entry (the chain's last seal).
    Seal,
}

/// One periodic job.
pub trait Task: Send + 'static {
    /// Its name: the thread's, and the `task` label of its metrics.
    fn name(&self) -> &'static str;

    /// The longest wait between two activations (also the wait after a failed one).
    fn period(&self) -> Duration;

    /// One round of work. `stop` is set once the service is stopping: a long round checks it
    /// and returns early.
    fn activate(&mut self, stop: &AtomicBool) -> Result<Next, ApiError>;

    /// What is left to do once the service stops (after the last activation).
    fn stop(&mut self) {}

    /// The doorbell that wakes this task (by default one of its own, rung by
    /// [`Driver::activate`]); a job woken from many places offers a shared one.
    fn bell(&self) -> Doorbell {
        Doorbell::Own(Arc::default())
    }

    /// When the task stops.
    fn stage(&self) -> Stage {
        Stage::Work
    }
}

/// A doorbell: a generation counter every ring advances.
#[derive(Default)]
pub struct Bell {
    generation: Mutex<u64>,
    ring: Condvar,
}

impl Bell {
    /// A bell for a `static`.
    pub const fn new() -> Self {
        Self {
            generation: Mutex::new(0),
            ring: Condvar::new(),
        }
    }

    /// Wakes every task waiting on this bell.
    pub fn ring(&self) {
        let mut generation = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        *generation = generation.wrapping_add(1);
        self.ring.notify_all();
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until the bell rings after `seen` or `timeout` passes.
    pub fn wait(&self, seen: u64, timeout: Duration) {
        let generation = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self
            .ring
            .wait_timeout_while(generation, timeout, |g| *g == seen);
    }
}

/// A task's bell: its own, or a `static` one rung from wherever its work appears.
#[derive(Clone)]
pub enum Doorbell {
    /// Rung by [`Driver::activate`] only.
    Own(Arc<Bell>),
    /// Shared by every instance in the process.
    Shared(&'static Bell),
}

impl std::ops::Deref for Doorbell {
    type Target = Bell;

    fn deref(&self) -> &Bell {
        match self {
            Doorbell::Own(bell) => bell,
            Doorbell::Shared(bell) => bell,
        }
    }
}

struct Running {
    name: &'static str,
    stage: Stage,
    bell: Doorbell,
    stop: Arc<AtomicBool>,
    status: Arc<Mutex<Status>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// The running tasks.
#[derive(Default)]
pub struct Driver {
    tasks: Vec<Running>,
}

impl Driver {
    /// Starts `task` on a thread of its own.
    pub fn register(&mut self, mut task: impl Task) -> std::io::Result<()> {
        let (name, stage) = (task.name(), task.stage());
        let bell = task.bell();
        let stop = Arc::new(AtomicBool::new(false));
        let status = Arc::new(Mutex::new(Status::default()));
        let (b, s, st) = (bell.clone(), stop.clone(), status.clone());
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || drive(&mut task, &b, &s, &st))?;
        self.tasks.push(Running {
            name,
            stage,
            bell,
            stop,
            status,
            thread: Mutex::new(Some(thread)),
        });
        Ok(())
    }

    /// Wakes the task named `name` now.
    pub fn activate(&self, name: &str) {
        for task in self.tasks.iter().filter(|t| t.name == name) {
            task.bell.ring();
        }
    }

    /// Each task's name and status.
    pub fn statuses(&self) -> Vec<(&'static str, Status)> {
        self.tasks
            .iter()
            .map(|t| {
                let status = t.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
                (t.name, status)
            })
            .collect()
    }

    /// Stops the tasks of `stage`, in the order they were registered: each finishes its
    /// activation, then its [`Task::stop`] runs.
    pub fn shutdown(&self, stage: Stage) {
        for task in self.tasks.iter().filter(|t| t.stage == stage) {
            task.stop.store(true, Ordering::Release);
            task.bell.ring();
            let thread = task.thread.lock().ok().and_then(|mut t| t.take());
            if let Some(thread) = thread {
                let _ = thread.join();
            }
        }
    }
}

fn drive(task: &mut impl Task, bell: &Bell, stop: &AtomicBool, status: &Mutex<Status>) {
    while !stop.load(Ordering::Acquire) {
        let seen = bell.generation();
        let began = Instant::now();
        let at = SystemTime::now();
        let result = task.activate(stop);
        {
            let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
            s.last_run = Some(at);
            s.last_duration = began.elapsed();
            s.runs += 1;
            if let Err(e) = &result {
                s.failures += 1;
                s.last_error = Some(e.to_string());
            }
        }
        let next = match result {
            Ok(next) => next,
            Err(e) => {
                if !matches!(e, ApiError::Unavailable) {
                    log::warn!("{}: {e}", task.name());
                }
                Next::Period
            }
        };
        let wait = match next {
            Next::Now => continue,
            Next::Period => task.period(),
            Next::After(wait) => wait,
        };
        if !stop.load(Ordering::Acquire) {
            bell.wait(seen, wait);
        }
    }
    task.stop();
}
