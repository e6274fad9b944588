//! Validated value types (once a value of one of these types exists, it is valid) and the
//! enums stored as text, each defined once for storage and the API alike.

pub mod acr;
pub mod consent;
pub mod consent_state;
pub mod country;
pub mod deadline;
pub mod disclosure;
pub mod email;
pub mod hold;
pub mod ids;
pub mod language;
pub mod mod11;
pub mod notice;
pub mod outcome;
pub mod personal_code;
pub mod phone;
pub mod privacy_request;
pub mod purpose_id;
pub mod recipient;
pub mod registry_code;
pub mod restriction;
pub mod retention;
pub mod source_type;
pub mod stored;
pub mod subject_kind;
pub mod text;
pub mod working_days;
