//! What every handler shares: the pool, the token verifier, the access log's background
//! writers, the notices' delivery worker and the retention thread. Built by
//! `server::AppState::new`, torn down by [`AppState::shutdown`].

use crate::access_log::sealer::Sealer;
use crate::access_log::writer::LogWriter;
use crate::auth::Verifier;
use crate::db::Db;

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub verifier: Verifier,
    pub log_writer: LogWriter,
    pub sealer: Sealer,
    /// How long a request body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// The retention thread, which carries out retention runs.
    pub retention: crate::retention::worker::Runner,
    /// The delivery worker of notices to recipients.
    pub notices: crate::notices::worker::Worker,
    /// `WEBHOOK_ALLOW_PRIVATE`: webhooks may use `http` and any address.
    pub webhook_allow_private: bool,
    /// The accountability registers' settings.
    pub registers: crate::config::RegisterSettings,
    /// The rule that binds calls to a stated purpose, when one is enforced.
    pub purpose_rule: Option<std::sync::Arc<dyn crate::access_log::audit::PurposeRule>>,
}

impl AppState {
    /// Commits every pending access-log entry and seals the chain: the last step of a shutdown.
    pub fn shutdown(&self) {
        self.retention.shutdown();
        self.notices.shutdown();
        self.log_writer.shutdown();
        self.sealer.shutdown();
    }
}
