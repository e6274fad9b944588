//! A subject and its rectifications in clear: the record the model reads and writes, and the
//! sealed forms ([`super::sealed`]) open to and seal from.

use crate::domain::ids::{RectificationId, SubjectId};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The fields staff set, validated and in clear: what a create inserts and a rectification
/// overwrites.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectData {
    pub kind: String,
    pub given_name: String,
    pub family_name: String,
    pub personal_code: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address_street: Option<String>,
    pub address_city: Option<String>,
    pub address_postal_code: Option<String>,
    pub address_country: Option<String>,
    pub preferred_language: Option<String>,
    pub source_type: String,
    pub source_name: Option<String>,
    pub source_reference: Option<String>,
    pub source_collected_at: Option<DateTime<Utc>>,
    pub source_attestation: Option<String>,
}

impl SubjectData {
    /// Every field under its name in the API (nested ones dotted) with its JSON value: what a
    /// rectification compares and records.
    pub fn fields(&self) -> [(&'static str, Value); 16] {
        let text = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        [
            ("kind", Value::from(self.kind.as_str())),
            ("given_name", Value::from(self.given_name.as_str())),
            ("family_name", Value::from(self.family_name.as_str())),
            ("personal_code", text(&self.personal_code)),
            ("email", text(&self.email)),
            ("phone", text(&self.phone)),
            ("address.street", text(&self.address_street)),
            ("address.city", text(&self.address_city)),
            ("address.postal_code", text(&self.address_postal_code)),
            ("address.country", text(&self.address_country)),
            ("preferred_language", text(&self.preferred_language)),
            ("source.type", Value::from(self.source_type.as_str())),
            ("source.name", text(&self.source_name)),
            ("source.reference", text(&self.source_reference)),
            (
                "source.collected_at",
                serde_json::to_value(self.source_collected_at).unwrap_or(Value::Null),
            ),
            (
                "source.lawful_collection_attestation",
                text(&self.source_attestation),
            ),
        ]
    }
}

/// A subject, opened.
#[derive(Debug, Clone)]
pub struct SubjectRow {
    pub id: SubjectId,
    pub version: i32,
    pub data: SubjectData,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Creation, or the last rectification, consent change or staff disclosure record.
    pub last_activity_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
    pub restriction_ground: Option<String>,
    pub restricted_since: Option<DateTime<Utc>>,
}

/// A rectification, opened.
#[derive(Debug, Clone)]
pub struct RectificationRow {
    pub id: RectificationId,
    pub subject_id: SubjectId,
    pub field: String,
    pub old_value: Option<Value>,
    pub new_value: Option<Value>,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
}

/// A rectification about to be appended, in clear.
#[derive(Debug)]
pub struct NewRectification {
    pub id: RectificationId,
    pub subject_id: SubjectId,
    pub field: String,
    pub old_value: Option<Value>,
    pub new_value: Option<Value>,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
}
