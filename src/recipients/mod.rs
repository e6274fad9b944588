//! The `recipients` resource: the registry of organisations that may receive personal data
//! (privacy policy, principle 10).

pub mod api;
pub mod model;
pub mod routes;
