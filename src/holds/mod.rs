//! Holds (Art. 17(3)): a legal reason to keep a subject's data. While a hold is active (not
//! released) the subject cannot be erased, by the erasure endpoint or by a retention run.

pub mod api;
pub mod model;
pub mod routes;

pub use model::active_hold;
