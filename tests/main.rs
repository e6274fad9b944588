//! One integration-test binary: every test gets its own database and the real app.

// A panic is how a test reports its failure, helpers included (the service itself denies them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access_downloads;
mod access_links;
mod access_log;
mod access_page;
mod access_response;
mod activities;
mod address_rule;
mod art14;
mod at_rest;
mod audit;
mod auth;
mod bounded;
mod breaches;
#[allow(
    dead_code,
    reason = "a shared toolbox: not every test run uses every helper"
)]
mod browser;
mod concurrency;
mod consent_children;
mod consent_confirmation;
mod consent_lifecycle;
mod consent_versions;
mod consents;
mod conventions;
mod dependencies;
mod disclosures;
mod erasure;
mod evidence;
mod failover;
mod hardening;
#[allow(
    dead_code,
    reason = "a shared toolbox: not every test run uses every helper"
)]
mod harness;
mod idempotency;
mod instances;
mod jwks;
mod jws;
mod layers;
mod link_coverage;
mod log_coverage;
mod me;
mod me_consents;
mod me_log;
mod me_requests;
mod never_fork;
mod notice_lanes;
mod notices;
mod openapi;
mod ops;
mod outage;
mod outcomes;
mod privacy_centre;
mod privacy_pages;
mod privacy_verify;
mod problems;
mod process;
mod proofs;
mod receipt_fields;
mod receipts;
mod recipients;
mod register_texts;
mod request_loop;
mod request_verification;
mod requests;
mod retention;
mod retention_crash;
mod schema;
mod security;
mod subjects;
mod token_bounds;
mod unkeyed;
mod upgrade;
mod verify_stray;
mod withheld;
