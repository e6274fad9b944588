//! Validated value types: once a value of one of these types exists, it is valid.
pub mod purpose_id;
