//! The `subjects` resource: the persons whose data PlanPro keeps, their rectification history
//! and the right-of-access export.

pub mod api;
mod checker;
pub mod erasure;
pub mod export;
pub mod model;
pub mod patch;
pub mod path;
pub mod processing;
pub mod read;
pub mod rectify;
pub mod restriction;
pub mod routes;
pub mod sealed;
