//! The periodic job that extends the hash chain and the Merkle tree and signs checkpoints (the
//! logic is [`super::chain::seal`] and [`super::sealing`]; the background driver runs it), and
//! the handle to the proofs it keeps.

use super::chain::{self, ROUND_LIMIT};
use super::sealing::Proofs;
use crate::background::{Next, Stage, Task};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// The proofs the sealing keeps: the tree, its checkpoints and their signer.
pub struct Sealer {
    proofs: Arc<Proofs>,
}

impl Sealer {
    /// The handle, and the job that seals every `period` (to register with the driver).
    pub fn start(db: Db, period: Duration, proofs: Arc<Proofs>) -> (Self, Sealing) {
        let job = Sealing {
            db,
            period,
            proofs: proofs.clone(),
        };
        (Self { proofs }, job)
    }

    /// The tree, its checkpoints and their signer.
    pub fn proofs(&self) -> &Arc<Proofs> {
        &self.proofs
    }
}

/// Seals every period; a full round means more is waiting, so it goes on at once (sealing then
/// keeps up with any append rate the round size allows). Its last round runs at shutdown, after
/// the access log's writers have committed every pending entry.
pub struct Sealing {
    db: Db,
    period: Duration,
    proofs: Arc<Proofs>,
}

impl Sealing {
    fn round(&self, last: bool) -> ApiResult<usize> {
        let mut conn = self.db.get()?;
        chain::seal(&mut conn, last, &self.proofs)
    }
}

impl Task for Sealing {
    fn name(&self) -> &'static str {
        "access-log-sealer"
    }

    fn period(&self) -> Duration {
        self.period
    }

    fn stage(&self) -> Stage {
        Stage::Seal
    }

    fn activate(&mut self, _: &AtomicBool) -> ApiResult<Next> {
        let chained = self.round(false)?;
        Ok(if chained as i64 >= ROUND_LIMIT / 2 {
            Next::Now
        } else {
            Next::Period
        })
    }

    fn stop(&mut self) {
        match self.round(true) {
            Ok(_) | Err(ApiError::Unavailable) => {}
            Err(e) => log::warn!("sealing the access log failed: {e}"),
        }
    }
}
