//! planpro-privacy: the service that makes PlanPro OÜ's privacy promises true in software.

pub mod access_log;
pub mod audit;
pub mod auth;
pub mod batched;
pub mod config;
pub mod consents;
pub mod db;
pub mod disclosures;
pub mod domain;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod precondition;
pub mod proof_keys;
pub mod receipts;
pub mod recipients;
pub mod request;
pub mod requests;
pub mod server;
pub mod subjects;

use access_log::writer::LogWriter;
use auth::Verifier;
use db::Db;

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub verifier: Verifier,
    pub log_writer: LogWriter,
    pub sealer: access_log::Sealer,
}

impl AppState {
    /// Commits every pending access-log entry and seals the chain: the last step of a shutdown.
    pub fn shutdown(&self) {
        self.log_writer.shutdown();
        self.sealer.shutdown();
    }
}

pub use server::build_app;
