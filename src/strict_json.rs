//! Strict JSON: a body whose object repeats a member name is refused rather than read with the
//! last value winning (`{"status":"granted","status":"withdrawn"}` must not record a withdrawal
//! that a reviewer of the body would read as a grant).

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

/// Why a body is not strict JSON.
#[derive(Debug)]
pub enum StrictError {
    /// Not JSON at all.
    Syntax(serde_json::Error),
    /// Well-formed, but these members (dotted paths, array items indexed) appear more than once.
    Duplicates(Vec<String>),
}

/// Parses a JSON document in one pass, naming every member name repeated within its object.
pub fn parse(body: &[u8]) -> Result<Value, StrictError> {
    let duplicates = RefCell::new(Vec::new());
    let mut reader = serde_json::Deserializer::from_slice(body);
    let value = Strict {
        path: String::new(),
        duplicates: &duplicates,
    }
    .deserialize(&mut reader)
    .map_err(StrictError::Syntax)?;
    reader.end().map_err(StrictError::Syntax)?;
    let mut duplicates = duplicates.into_inner();
    if duplicates.is_empty() {
        return Ok(value);
    }
    duplicates.sort();
    duplicates.dedup();
    Err(StrictError::Duplicates(duplicates))
}

/// Builds a [`Value`] like serde_json's own visitor, remembering where it is.
struct Strict<'a> {
    path: String,
    duplicates: &'a RefCell<Vec<String>>,
}

impl Strict<'_> {
    fn child(&self, step: &str) -> Self {
        let path = if self.path.is_empty() || step.starts_with('[') {
            format!("{}{step}", self.path)
        } else {
            format!("{}.{step}", self.path)
        };
        Strict {
            path,
            duplicates: self.duplicates,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(self.child(&format!("[{}]", items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let inner = self.child(&key);
            let path = inner.path.clone();
            let value = map.next_value_seed(inner)?;
            if object.insert(key, value).is_some() {
                self.duplicates.borrow_mut().push(path);
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicates(text: &str) -> Vec<String> {
        match parse(text.as_bytes()) {
            Err(StrictError::Duplicates(names)) => names,
            other => panic!("expected duplicates, got {other:?}"),
        }
    }

    #[test]
    fn every_repeated_member_is_named_with_its_path() {
        assert_eq!(
            duplicates(r#"{"status":"granted","status":"withdrawn"}"#),
            ["status"]
        );
        assert_eq!(
            duplicates(r#"{"a":{"b":1,"b":2},"c":[{"d":1,"d":1}],"e":1,"e":2}"#),
            ["a.b", "c[0].d", "e"]
        );
    }

    #[test]
    fn the_same_name_in_different_objects_is_fine_and_values_match_serde_json() {
        let text =
            r#"{"a":{"x":1},"b":{"x":-2.5},"c":[1,"two",null,true,{"x":18446744073709551615}]}"#;
        let strict = parse(text.as_bytes()).unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, plain);
    }

    #[test]
    fn malformed_json_is_a_syntax_error() {
        assert!(matches!(parse(b"{\"a\":"), Err(StrictError::Syntax(_))));
        assert!(matches!(parse(b"{} {}"), Err(StrictError::Syntax(_))));
    }
}
