//! The collector behind the subject body's validation: every bad field is noted, nested ones
//! dotted, so that one 422 names them all.

use crate::error::FieldError;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};

/// Collects the field errors of parsing several values.
#[derive(Default)]
pub(super) struct Checker(pub(super) Vec<FieldError>);

impl Checker {
    pub(super) fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        parsed
            .map_err(|message| self.0.push(FieldError::new(field, message)))
            .ok()
    }

    pub(super) fn optional<T>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        value.and_then(|raw| self.check(field, parse(raw)))
    }

    pub(super) fn required<T>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        if value.is_none() {
            self.0.push(FieldError::new(field, "is required"));
        }
        self.optional(field, value, parse)
    }

    /// A nested object (absent and `null` are none), naming its unknown keys.
    pub(super) fn object<'a>(
        &mut self,
        name: &str,
        value: Option<&'a Value>,
        known: &[&str],
    ) -> Option<&'a Map<String, Value>> {
        match value {
            None | Some(Value::Null) => None,
            Some(Value::Object(object)) => {
                for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
                    self.0
                        .push(FieldError::new(format!("{name}.{key}"), "unknown field"));
                }
                Some(object)
            }
            Some(_) => {
                self.0.push(FieldError::new(name, "must be an object"));
                None
            }
        }
    }

    /// A text field of a nested object (`null` is none), as `name.key`.
    pub(super) fn text<'a>(
        &mut self,
        object: Option<&'a Map<String, Value>>,
        name: &str,
        key: &str,
    ) -> Option<&'a str> {
        match object?.get(key)? {
            Value::Null => None,
            Value::String(text) => Some(text),
            _ => {
                self.0
                    .push(FieldError::new(format!("{name}.{key}"), "must be a string"));
                None
            }
        }
    }
}

/// Collection times may run this far ahead of our clock before they count as in the future.
const CLOCK_SKEW_SECS: i64 = 300;

/// A collection time: RFC 3339, not in the future.
pub(super) fn collection_time(raw: &str) -> Result<DateTime<Utc>, String> {
    let at = DateTime::parse_from_rfc3339(raw.trim())
        .map_err(|_| "must be an RFC 3339 date-time such as 2026-11-01T10:00:00Z".to_owned())?
        .with_timezone(&Utc)
        // Postgres keeps microseconds; truncating here keeps an unchanged time unchanged.
        .trunc_subsecs(6);
    if (at - Utc::now()).num_seconds() > CLOCK_SKEW_SECS {
        return Err("must not be in the future".to_owned());
    }
    Ok(at)
}
