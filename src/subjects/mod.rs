//! The `subjects` resource: the persons whose data PlanPro keeps, their rectification history
//! and the right-of-access export.

pub mod api;
mod checker;
pub mod export;
pub mod model;
pub mod patch;
pub mod path;
pub mod read;
pub mod rectify;
pub mod routes;
pub mod sealed;
