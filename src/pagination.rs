//! Keyset pagination: `?limit=` (1..1000, default 100) and an opaque `?cursor=`, and the query
//! parameter reader that names every bad parameter.

use crate::error::{ApiError, FieldError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use std::collections::HashMap;
use std::str::FromStr;
use utoipa::ToSchema;

/// The default page size.
pub const DEFAULT_LIMIT: i64 = 100;
/// The largest page size.
pub const MAX_LIMIT: i64 = 1000;

/// A page of items and the cursor of the next page (null on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

const CURSOR_PREFIX: &str = "c1:";

/// Wraps a keyset position into an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{key}"))
}

/// Unwraps a cursor made by [`encode_cursor`]; `None` for anything else.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    if cursor.len() > 1024 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(CURSOR_PREFIX).map(str::to_owned)
}

/// The query string as given, read parameter by parameter; every bad one is collected.
pub struct Params {
    values: HashMap<String, String>,
    read: std::collections::HashSet<String>,
    errors: Vec<FieldError>,
}

impl Params {
    /// Wraps the parsed query string.
    pub fn new(values: HashMap<String, String>) -> Self {
        Self {
            values,
            read: std::collections::HashSet::new(),
            errors: Vec::new(),
        }
    }

    /// A text parameter, trimmed; given but empty is an error.
    pub fn text(&mut self, name: &str, max_chars: usize) -> Option<String> {
        self.read.insert(name.to_owned());
        let value = self.values.get(name)?.trim();
        if value.is_empty() {
            self.errors.push(FieldError::new(name, "must not be empty"));
            return None;
        }
        if value.chars().count() > max_chars {
            self.errors.push(FieldError::new(
                name,
                format!("must be at most {max_chars} characters"),
            ));
            return None;
        }
        Some(value.to_owned())
    }

    /// A parameter parsed with `FromStr`.
    pub fn parsed<T: FromStr>(&mut self, name: &str, expected: &str) -> Option<T> {
        let raw = self.text(name, 200)?;
        match raw.parse() {
            Ok(value) => Some(value),
            Err(_) => {
                self.errors
                    .push(FieldError::new(name, format!("must be {expected}")));
                None
            }
        }
    }

    /// A parameter checked by a function that returns its value or what is wrong.
    pub fn with<T>(&mut self, name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let raw = self.text(name, 1000)?;
        match parse(&raw) {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError::new(name, message));
                None
            }
        }
    }

    /// `limit` (1..1000, default 100).
    pub fn limit(&mut self) -> i64 {
        let limit = self.parsed::<i64>("limit", "a whole number from 1 to 1000");
        match limit {
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                self.errors.push(FieldError::new(
                    "limit",
                    "must be a whole number from 1 to 1000",
                ));
                DEFAULT_LIMIT
            }
            None => DEFAULT_LIMIT,
        }
    }

    /// `cursor`, decoded and parsed into its key type.
    pub fn cursor<K: FromStr>(&mut self) -> Option<K> {
        self.with("cursor", |raw| {
            decode_cursor(raw)
                .and_then(|key| key.parse().ok())
                .ok_or_else(|| "is not a cursor this service issued".to_owned())
        })
    }

    /// Ends reading: every bad parameter, and every parameter the endpoint does not know, in
    /// one 400 (a misspelt filter must not silently widen a search).
    pub fn finish(mut self) -> Result<(), ApiError> {
        let mut unknown: Vec<&String> = self
            .values
            .keys()
            .filter(|k| !self.read.contains(*k))
            .collect();
        unknown.sort();
        for name in unknown {
            self.errors
                .push(FieldError::new(name.clone(), "unknown parameter"));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decoding_any_text_never_panics(text in "\\PC{0,600}") {
            let _ = decode_cursor(&text);
            let mut p = Params::new(HashMap::from([("cursor".to_owned(), text)]));
            let _ = p.cursor::<i64>();
            let _ = p.cursor::<uuid::Uuid>();
        }

        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_cursor(&URL_SAFE_NO_PAD.encode(&bytes));
        }

        #[test]
        fn every_key_round_trips(key in "\\PC{0,60}") {
            prop_assert_eq!(decode_cursor(&encode_cursor(&key)), Some(key));
        }
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let c = encode_cursor("42");
        assert_eq!(decode_cursor(&c).as_deref(), Some("42"));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("x:42")), None);
    }

    #[test]
    fn bad_limit_and_cursor_are_both_named() {
        let mut p = Params::new(HashMap::from([
            ("limit".to_owned(), "0".to_owned()),
            ("cursor".to_owned(), "zzz".to_owned()),
        ]));
        p.limit();
        p.cursor::<i64>();
        let ApiError::Validation { errors, .. } = p.finish().unwrap_err() else {
            panic!("expected a validation error")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor"]);
    }
}

/// The paging parameters every list accepts (for the OpenAPI document; read with [`Params`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Oldest first (the default).
    Asc,
    /// Newest first.
    Desc,
}
