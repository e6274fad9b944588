//! Validated value types: once a value of one of these types exists, it is valid.

pub mod country;
pub mod deadline;
pub mod email;
pub mod language;
pub mod mod11;
pub mod personal_code;
pub mod phone;
pub mod privacy_request;
pub mod purpose_id;
pub mod registry_code;
pub mod source_type;
pub mod subject_kind;
pub mod text;
