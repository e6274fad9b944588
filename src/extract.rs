//! Request-body and parameter extraction that answers every malformed input with a 4xx problem
//! naming each bad field, actix's own extractor errors included.

use crate::error::{ApiError, FieldError};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

pub mod early_dates;
mod wording;
pub use wording::UUID_EXAMPLE;

/// Semantic checks of a well-typed body, collecting every bad field.
pub trait Validate {
    /// Every problem with the value; empty when it is valid.
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// The fields a body type declares, and which of them are required, read off its schema.
fn declared_fields<T: PartialSchema>() -> (BTreeSet<String>, BTreeSet<String>) {
    match T::schema() {
        RefOr::T(Schema::Object(object)) => (
            object.properties.keys().cloned().collect(),
            object.required.iter().cloned().collect(),
        ),
        _ => (BTreeSet::new(), BTreeSet::new()),
    }
}

/// For each field whose schema is a named object type, the fields that type declares: unknown
/// keys inside it are named as well, not silently dropped by serde.
fn nested_fields<T: ToSchema>() -> BTreeMap<String, BTreeSet<String>> {
    let mut components = Vec::new();
    T::schemas(&mut components);
    let RefOr::T(Schema::Object(object)) = T::schema() else {
        return BTreeMap::new();
    };
    object
        .properties
        .iter()
        .filter_map(|(field, schema)| {
            let RefOr::Ref(reference) = schema else {
                return None;
            };
            let name = reference.ref_location.rsplit('/').next()?;
            components
                .iter()
                .find_map(|(component, schema)| match schema {
                    RefOr::T(Schema::Object(inner)) if component == name => {
                        Some((field.clone(), inner.properties.keys().cloned().collect()))
                    }
                    _ => None,
                })
        })
        .collect()
}

/// A syntax error with where it is (line and column help find it); any other error in plain
/// words without the value (see [`wording`]).
fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let message = text.find(" at line ").map_or(text.as_str(), |i| &text[..i]);
    if error.is_syntax() || error.is_eof() {
        return format!(
            "not valid JSON ({message} at line {}, column {})",
            error.line(),
            error.column()
        );
    }
    wording::expected(message)
}

/// Parses JSON strictly: malformed JSON and repeated member names (each named) are a 400.
pub fn strict_value(body: &[u8]) -> Result<Value, ApiError> {
    crate::strict_json::parse(body).map_err(|e| match e {
        crate::strict_json::StrictError::Syntax(e) => {
            ApiError::invalid_field("body", describe_json_error(&e))
        }
        crate::strict_json::StrictError::Duplicates(names) => ApiError::invalid(
            names
                .into_iter()
                .map(|name| FieldError::new(name, "appears more than once"))
                .collect(),
        ),
    })
}

/// Parses a JSON object into `T`, collecting every problem.
pub fn parse_object<T>(body: &[u8]) -> Result<T, ApiError>
where
    T: DeserializeOwned + ToSchema + Validate,
{
    let value = strict_value(body)?;
    let Value::Object(mut object) = value else {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    };
    let (known, required) = declared_fields::<T>();
    let mut errors = Vec::new();
    // PostgreSQL text cannot hold NUL: refuse it here, as the bad input it is.
    for (key, value) in &object {
        nul_fields(key, value, &mut errors);
    }
    let unknown: Vec<String> = object
        .keys()
        .filter(|k| !known.is_empty() && !known.contains(*k))
        .cloned()
        .collect();
    for key in unknown {
        object.remove(&key);
        errors.push(FieldError::new(key.replace('\0', "\\0"), "unknown field"));
    }
    for (field, known_inside) in nested_fields::<T>() {
        if let Some(Value::Object(inner)) = object.get_mut(&field) {
            let unknown: Vec<String> = inner
                .keys()
                .filter(|k| !known_inside.contains(*k))
                .cloned()
                .collect();
            for key in unknown {
                inner.remove(&key);
                let named = format!("{field}.{}", key.replace('\0', "\\0"));
                errors.push(FieldError::new(named, "unknown field"));
            }
        }
    }
    for field in &required {
        if !object.contains_key(field) {
            errors.push(FieldError::new(field.clone(), "is required"));
        }
    }
    early_dates::check::<T>(&object, &mut errors);
    let parsed = deserialize_reporting_each_field::<T>(object, &mut errors);
    if let Some(value) = &parsed {
        errors.extend(value.validate());
    }
    match parsed {
        Some(value) if errors.is_empty() => Ok(value),
        _ => {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            errors.dedup_by(|a, b| a.field == b.field);
            Err(ApiError::invalid(errors))
        }
    }
}

fn nul_fields(path: &str, value: &Value, errors: &mut Vec<FieldError>) {
    match value {
        Value::String(text) if text.contains('\0') => {
            errors.push(FieldError::new(path, "must not contain NUL characters"));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_fields(&format!("{path}[{i}]"), item, errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                nul_fields(&format!("{path}.{key}"), item, errors);
            }
        }
        _ => {}
    }
    if path.contains('\0') {
        errors.push(FieldError::new(
            path.replace('\0', "\\0"),
            "must not contain NUL characters",
        ));
    }
}

/// Deserializes, and on a type error records the field, drops it and tries again, so that every
/// badly typed field is named rather than only the first.
fn deserialize_reporting_each_field<T: DeserializeOwned>(
    mut object: Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    loop {
        let attempt: Result<T, _> = serde_path_to_error::deserialize(Value::Object(object.clone()));
        let error = match attempt {
            Ok(value) => return Some(value),
            Err(error) => error,
        };
        let path = error.path().to_string();
        let top = path.split(['.', '[']).next().unwrap_or_default().to_owned();
        let raw = error.inner().to_string();
        let message = describe_json_error(error.inner());
        if top.is_empty() || top == "?" || !object.contains_key(&top) {
            // A missing field (already named from the schema) or a whole-body problem.
            let already_named = errors.iter().any(|e| {
                let named = e.field.split(['.', '[']).next().unwrap_or_default();
                raw.contains(&format!("`{named}`"))
            });
            if !already_named {
                errors.push(FieldError::new(
                    if top.is_empty() || top == "?" {
                        "body".to_owned()
                    } else {
                        top
                    },
                    message,
                ));
            }
            return None;
        }
        errors.push(FieldError::new(path, message));
        object.remove(&top);
    }
}

/// 413 for a body over `limit` bytes.
pub fn too_large(limit: usize) -> ApiError {
    ApiError::client(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!("the body exceeds {limit} bytes"),
    )
}

/// Maps actix's JSON extractor errors to problems.
pub fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let problem = match &error {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => too_large(*limit),
        JsonPayloadError::ContentType => ApiError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "the body must be application/json",
        ),
        JsonPayloadError::Deserialize(e) => ApiError::invalid_field("body", describe_json_error(e)),
        _ => ApiError::invalid_field("body", "the body could not be read"),
    };
    problem.into()
}

/// The problem of a path segment that did not deserialize, worded as every path's is.
pub fn path_segment_error(field: &str, serde_message: &str) -> ApiError {
    ApiError::invalid_field(field, wording::expected(serde_message))
}

/// Maps a bad path segment (such as a malformed UUID) to a 400 naming the parameter.
pub fn path_error(error: PathError, req: &HttpRequest) -> actix_web::Error {
    let PathError::Deserialize(e) = &error else {
        return ApiError::invalid_field("path", "invalid path").into();
    };
    let message = wording::expected(&e.to_string());
    let field = req
        .match_info()
        .iter()
        .find(|(_, v)| uuid::Uuid::parse_str(v).is_err())
        .map(|(k, _)| k.to_owned())
        .unwrap_or_else(|| "path".to_owned());
    ApiError::invalid_field(&field, message).into()
}

/// Maps bad query parameters to a 400 naming the parameter when serde says which.
pub fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let raw = match &error {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        _ => String::new(),
    };
    let field = raw
        .split('`')
        .nth(1)
        .filter(|_| raw.contains("field"))
        .unwrap_or("query")
        .to_owned();
    let message = if raw.is_empty() {
        "is not a valid query string".to_owned()
    } else {
        wording::expected(&raw)
    };
    ApiError::invalid_field(&field, message).into()
}
