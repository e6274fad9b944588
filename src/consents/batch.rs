//! Consent changes recorded in batches by the access log's group-commit writers: every change of
//! a batch, its event and its access-log entry commit in one transaction, with a handful of
//! statements for the whole batch instead of several per change.
//!
//! Order: the upsert of the flags comes first because it is what takes their row locks (in key
//! order, so that two batches never deadlock); a concurrent change of the same flag waits there
//! until this batch commits. Only once every lock is held are the events stamped with their ids
//! and times, in arrival order. So events of one flag are ordered like their commits, and the
//! stored flag always equals its newest event; stamping before the upsert would let a batch that
//! waited overwrite a newer decision with an older-stamped one.

mod change;
mod known;
pub mod op;
mod record;
mod stamp;
mod write;

pub use change::{answer_of, stale_version, ChangeOutcome, PendingChange};
pub use record::record_changes;
