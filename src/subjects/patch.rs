//! The body of a rectification: a JSON merge patch (RFC 7396) of the subject's fields, its shape
//! checked before any precondition, and the merge itself.

use super::api::{Address, SubjectFields};
use crate::domain::ids::PrivacyRequestId;
use crate::domain::language::Language;
use crate::domain::subject_kind::SubjectKind;
use crate::domain::text::LongText;
use crate::error::FieldError;
use crate::extract::Validate;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A rectification: a JSON merge patch (RFC 7396) of the subject's fields and the reason for
/// it. A key left out stays as it is, `null` clears an optional field, and `address` and
/// `source` merge key by key. The result is validated like a new subject.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SubjectPatch {
    /// Why the data is corrected, as the person asked or as found (1 to 500 characters).
    #[schema(
        example = "the person reported a new e-mail address",
        min_length = 1,
        max_length = 500
    )]
    pub reason: String,
    /// `client` or `contact`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<SubjectKind>)]
    pub kind: Option<Value>,
    /// Given name(s).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub given_name: Option<Value>,
    /// Family name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub family_name: Option<Value>,
    /// Estonian personal identification code; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[1-6][0-9]{10}$")]
    pub personal_code: Option<Value>,
    /// E-mail address; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Value>,
    /// Phone number in E.164 form; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^\+[1-9][0-9]{7,14}$")]
    pub phone: Option<Value>,
    /// Lines of the address to change; `null` clears the address or one line.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Address>)]
    pub address: Option<Value>,
    /// `et`, `en` or `ru`; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Language>)]
    pub preferred_language: Option<Value>,
    /// Keys of the source to change (`type`, `name`, `reference`, `collected_at`,
    /// `lawful_collection_attestation`); `null` clears an optional one.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub source: Option<Value>,
    /// The privacy request this answers: an open rectification request about this subject (400
    /// naming the field otherwise; 409 `request-closed`). The notices it causes carry it.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub privacy_request_id: Option<PrivacyRequestId>,
}

/// Keeps an explicit `null` (`Some(Value::Null)`) apart from a missing key (`None`), which a
/// merge patch must tell apart.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// The shape of a merge patch, checked before any precondition: text fields take a string or
/// null, `address` and `source` an object (of strings or nulls) or null. What the merged record
/// must satisfy is checked once it is merged.
impl Validate for SubjectPatch {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let text_fields = [
            ("kind", &self.kind),
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("personal_code", &self.personal_code),
            ("email", &self.email),
            ("phone", &self.phone),
            ("preferred_language", &self.preferred_language),
        ];
        for (name, value) in text_fields {
            if value
                .as_ref()
                .is_some_and(|v| !v.is_string() && !v.is_null())
            {
                errors.push(FieldError::new(name, "must be a string or null"));
            }
        }
        for (name, value) in [("address", &self.address), ("source", &self.source)] {
            match value {
                None | Some(Value::Null) => {}
                Some(Value::Object(lines)) => {
                    for (key, line) in lines {
                        if !line.is_string() && !line.is_null() {
                            errors.push(FieldError::new(
                                format!("{name}.{key}"),
                                "must be a string or null",
                            ));
                        }
                    }
                }
                Some(_) => errors.push(FieldError::new(name, "must be an object or null")),
            }
        }
        if errors.is_empty() {
            errors = self.field_errors();
        }
        if let Err(message) = LongText::parse(&self.reason) {
            errors.push(FieldError::new("reason", message));
        }
        errors
    }
}

impl SubjectPatch {
    /// Errors of the patched values themselves (a malformed e-mail, an unknown language, …),
    /// found before any precondition by patching a neutral valid record. Rules that join
    /// several fields are left for the merge with the real record.
    fn field_errors(&self) -> Vec<FieldError> {
        let (_, patch) = self.clone().into_parts();
        let mut touched: Vec<String> = Vec::new();
        for (key, value) in &patch {
            touched.push(key.clone());
            if let Value::Object(inner) = value {
                touched.extend(inner.keys().map(|k| format!("{key}.{k}")));
            }
        }
        let mut document = serde_json::json!({
            "kind": "client",
            "given_name": "x",
            "family_name": "x",
            "source": {"type": "data_subject"},
        });
        merge_patch(&mut document, Value::Object(patch));
        let Ok(fields) = serde_json::from_value::<SubjectFields>(document) else {
            return Vec::new();
        };
        fields
            .to_data()
            .err()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| touched.contains(&e.field))
            .collect()
    }
}

impl SubjectPatch {
    /// The reason and the merge patch of the fields given.
    pub fn into_parts(self) -> (String, Map<String, Value>) {
        let fields = [
            ("kind", self.kind),
            ("given_name", self.given_name),
            ("family_name", self.family_name),
            ("personal_code", self.personal_code),
            ("email", self.email),
            ("phone", self.phone),
            ("address", self.address),
            ("preferred_language", self.preferred_language),
            ("source", self.source),
        ];
        let patch = fields
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
            .collect();
        (self.reason, patch)
    }
}

/// RFC 7396: objects merge key by key, `null` removes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(&key);
            } else {
                merge_patch(target.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn merge_patch_follows_the_rfc_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (mut target, patch, expected) in cases {
            merge_patch(&mut target, patch.clone());
            assert_eq!(target, expected, "patch {patch}");
        }
    }
}
