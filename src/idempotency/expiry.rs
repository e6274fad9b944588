//! The periodic job that removes answers kept for idempotent retries once past their 24 hours,
//! in one instance at a time.

use crate::background::{Next, Task};
use crate::db::singleton::{self, Singleton};
use crate::db::Db;
use crate::error::ApiResult;
use diesel::Connection;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// How often expired answers are removed.
const PERIOD: Duration = Duration::from_secs(600);

/// Removes expired answers every `PERIOD`.
pub struct Purge {
    /// The pool the job borrows a connection from.
    pub db: Db,
}

impl Task for Purge {
    fn name(&self) -> &'static str {
        "idempotency-purge"
    }

    fn period(&self) -> Duration {
        PERIOD
    }

    fn activate(&mut self, _: &AtomicBool) -> ApiResult<Next> {
        let mut conn = self.db.get()?;
        let removed = conn.transaction(|conn| {
            if !singleton::try_hold(conn, Singleton::IdempotencyPurge)? {
                return Ok(0);
            }
            super::purge(conn)
        })?;
        if removed > 0 {
            log::info!("removed {removed} expired idempotent answers");
        }
        Ok(Next::Period)
    }
}
