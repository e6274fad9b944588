//! planpro-privacy: the service that makes PlanPro OÜ's privacy promises true in software.

pub mod access_log;
pub mod audit;
pub mod auth;
pub mod batched;
pub mod body;
pub mod caller;
pub mod cli;
pub mod config;
pub mod consents;
pub mod db;
pub mod disclosures;
pub mod domain;
pub mod error;
pub mod extract;
pub mod http_client;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod paths;
pub mod precondition;
pub mod proof_keys;
pub mod receipts;
pub mod recipients;
pub mod request;
pub mod requests;
pub mod responses;
pub mod router;
pub mod server;
pub mod state;
pub mod strict_json;
pub mod subjects;

pub use server::build_app;
pub use state::AppState;
