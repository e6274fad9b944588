//! Client timestamps before 1900-01-01 are refused (400 naming the field) wherever a body
//! declares a `date-time` field, top-level or in a named object inside it: year 0 or -1 would
//! parse, and then yield deadlines that are no RFC 3339 date.

use crate::error::FieldError;
use chrono::{DateTime, Datelike, FixedOffset};
use serde_json::{Map, Value};
use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// The earliest year a client timestamp may name.
pub const EARLIEST_YEAR: i32 = 1900;

fn is_date_time(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o))
        if o.format == Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
}

/// The paths of `T`'s `date-time` fields: `field`, or `field.inner` in a named object.
fn date_time_paths<T: ToSchema>() -> Vec<(String, Option<String>)> {
    let RefOr::T(Schema::Object(object)) = T::schema() else {
        return Vec::new();
    };
    let mut components = Vec::new();
    T::schemas(&mut components);
    let mut paths = Vec::new();
    for (field, schema) in &object.properties {
        if is_date_time(schema) {
            paths.push((field.clone(), None));
        } else if let RefOr::Ref(reference) = schema {
            let name = reference
                .ref_location
                .rsplit('/')
                .next()
                .unwrap_or_default();
            for (component, inner) in &components {
                if let (true, RefOr::T(Schema::Object(inner))) = (component == name, inner) {
                    for (key, schema) in &inner.properties {
                        if is_date_time(schema) {
                            paths.push((field.clone(), Some(key.clone())));
                        }
                    }
                }
            }
        }
    }
    paths
}

/// Names every `date-time` field of `object` that is a time before [`EARLIEST_YEAR`].
pub fn check<T: ToSchema>(object: &Map<String, Value>, errors: &mut Vec<FieldError>) {
    for (field, inner) in date_time_paths::<T>() {
        let value = match &inner {
            None => object.get(&field),
            Some(key) => object.get(&field).and_then(|o| o.get(key)),
        };
        let Some(Value::String(text)) = value else {
            continue;
        };
        if text
            .parse::<DateTime<FixedOffset>>()
            .is_ok_and(|at| at.year() < EARLIEST_YEAR)
        {
            let path = inner.map_or(field.clone(), |key| format!("{field}.{key}"));
            errors.push(FieldError::new(
                path,
                format!("must be {EARLIEST_YEAR}-01-01 or later"),
            ));
        }
    }
}
