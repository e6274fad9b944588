//! The `subjects` resource: the persons whose data PlanPro keeps and their rectification history,
//! the record every resource imports (the rights that reach into every resource live in
//! `rights/`).

pub mod api;
mod checker;
pub mod model;
pub mod patch;
pub mod path;
pub mod read;
pub mod record;
pub mod rectify;
pub mod routes;
pub mod sealed;
pub mod standing;

/// Plugs the subjects into the mechanisms at start-up: an idempotent replay about a subject
/// first checks that it still exists and is not erased.
pub fn plug_in() {
    crate::idempotency::check_subjects_with(|conn, id| path::require(conn, id).map(drop));
}
