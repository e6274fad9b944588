//! What every handler shares: the pool, the token verifier, the access log's background
//! writers, the proofs the sealing keeps and the background driver. Built by
//! `server::AppState::new`, torn down by [`AppState::shutdown`].

use crate::access_log::sealer::Sealer;
use crate::access_log::writer::LogWriter;
use crate::auth::Verifier;
use crate::background::{Driver, Stage};
use crate::db::Db;

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub verifier: Verifier,
    pub log_writer: LogWriter,
    pub sealer: Sealer,
    /// How long a request body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// The periodic jobs (chain sealing, retention, notice delivery, idempotency purge).
    pub background: Driver,
    /// `WEBHOOK_ALLOW_PRIVATE`: webhooks may use `http` and any address.
    pub webhook_allow_private: bool,
    /// The accountability registers' settings.
    pub registers: crate::config::RegisterSettings,
    /// The rule that binds calls to a stated purpose, when one is enforced.
    pub purpose_rule: Option<std::sync::Arc<dyn crate::access_log::purpose::PurposeRule>>,
    /// `REQUIRE_VERIFIED_REQUESTS`: an erasure or restriction citing an unverified request is
    /// 409 `request-unverified`.
    pub require_verified_requests: bool,
}

impl AppState {
    /// Stops the jobs, commits every pending access-log entry and seals the chain: the last step
    /// of a shutdown.
    pub fn shutdown(&self) {
        self.background.shutdown(Stage::Work);
        self.log_writer.shutdown();
        self.background.shutdown(Stage::Seal);
    }
}
