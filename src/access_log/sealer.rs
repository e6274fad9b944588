//! The switch of the background thread that extends the hash chain and the Merkle tree and signs
//! checkpoints (see [`super::chain`] and [`super::sealing`]).

use super::chain;
use super::sealing::Proofs;
use std::sync::Arc;

/// The background sealer of the hash chain and the switch that stops it.
pub struct Sealer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    proofs: Arc<Proofs>,
}

impl Sealer {
    /// Starts sealing every `period`.
    pub fn start(
        db: crate::db::Db,
        period: std::time::Duration,
        proofs: Arc<Proofs>,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = chain::spawn_sealer(db, period, stop.clone(), proofs.clone())?;
        Ok(Self {
            stop,
            thread: std::sync::Mutex::new(Some(thread)),
            proofs,
        })
    }

    /// The tree, its checkpoints and their signer.
    pub fn proofs(&self) -> &Arc<Proofs> {
        &self.proofs
    }

    /// Runs a last round and stops.
    pub fn shutdown(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}
