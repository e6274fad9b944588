//! Request and response bodies of the recipient registry.

use super::model::RecipientRow;
use crate::domain::email::Email;
use crate::domain::recipient::{RecipientCategory, RecipientStatus};
use crate::domain::registry_code::RegistryCode;
use crate::domain::text::check_controls;
use crate::error::{ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The longest recipient name.
const MAX_NAME_CHARS: usize = 200;

/// The contact e-mail is checked like a subject's ([`Email`]).
pub fn check_email(email: &str) -> Result<(), String> {
    Email::parse(email).map(|_| ())
}

fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    check_controls(name.trim(), false)?;
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("must be at most {MAX_NAME_CHARS} characters"));
    }
    Ok(())
}

/// A new recipient.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRecipient {
    /// The organisation's name.
    #[schema(example = "Partner OÜ", min_length = 1, max_length = 200)]
    pub name: String,
    /// The Estonian registry code (8 digits, check digit verified); unique among recipients.
    #[schema(example = "12345678", pattern = "^[0-9]{8}$")]
    pub registry_code: Option<String>,
    /// What kind of organisation it is.
    pub category: RecipientCategory,
    /// Where the organisation is reached about data protection.
    #[schema(example = "privacy@partner.ee", format = Email, max_length = 254)]
    pub contact_email: String,
}

impl Validate for NewRecipient {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Err(m) = check_name(&self.name) {
            errors.push(FieldError::new("name", m));
        }
        if let Some(Err(m)) = self.registry_code.as_deref().map(RegistryCode::parse) {
            errors.push(FieldError::new("registry_code", m));
        }
        if let Err(m) = check_email(&self.contact_email) {
            errors.push(FieldError::new("contact_email", m));
        }
        errors
    }
}

/// Reads a present field as `Some(value)`, `null` included (`Some(None)`), so that a merge patch
/// can tell "set to null" from "leave alone" (absent, `None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A JSON merge patch of a recipient: the fields given are replaced, the others kept.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecipientPatch {
    /// A new name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, max_length = 200)]
    pub name: Option<Option<String>>,
    /// A new contact e-mail address.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, max_length = 254)]
    pub contact_email: Option<Option<String>>,
    /// `suspended` stops every disclosure to the recipient; `active` resumes them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = RecipientStatus)]
    pub status: Option<Option<RecipientStatus>>,
}

impl Validate for RecipientPatch {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let not_null = "must not be null";
        match &self.name {
            Some(None) => errors.push(FieldError::new("name", not_null)),
            Some(Some(name)) => {
                if let Err(m) = check_name(name) {
                    errors.push(FieldError::new("name", m));
                }
            }
            None => {}
        }
        match &self.contact_email {
            Some(None) => errors.push(FieldError::new("contact_email", not_null)),
            Some(Some(email)) => {
                if let Err(m) = check_email(email) {
                    errors.push(FieldError::new("contact_email", m));
                }
            }
            None => {}
        }
        if let Some(None) = self.status {
            errors.push(FieldError::new("status", not_null));
        }
        errors
    }
}

/// A recipient as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recipient {
    pub id: Uuid,
    /// Incremented by every change; the `ETag`.
    pub version: i32,
    pub name: String,
    pub registry_code: Option<String>,
    pub category: RecipientCategory,
    pub contact_email: String,
    pub status: RecipientStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Recipient {
    /// The response body of a stored row.
    pub fn from_row(row: RecipientRow) -> ApiResult<Self> {
        Ok(Self {
            category: RecipientCategory::from_db(&row.category)?,
            status: RecipientStatus::from_db(&row.status)?,
            id: row.id,
            version: row.version,
            name: row.name,
            registry_code: row.registry_code,
            contact_email: row.contact_email,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pragmatic_email_check() {
        for good in [
            "a@b.ee",
            "privacy@partner.example.ee",
            "first.last+tag@x.co",
        ] {
            assert_eq!(check_email(good), Ok(()), "{good}");
        }
        let long = format!("{}@example.ee", "a".repeat(250));
        for bad in [
            "", "plain", "a@b", "@b.ee", "a@@b.ee", "a@b@c.ee", "a b@c.ee", "a@b..ee", "a@.ee",
            "a@b.ee.", &long,
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn categories_and_statuses_round_trip() {
        for c in RecipientCategory::ALL {
            assert_eq!(RecipientCategory::parse(c.as_str()), Ok(c));
        }
        for s in RecipientStatus::ALL {
            assert_eq!(RecipientStatus::parse(s.as_str()), Ok(s));
        }
        assert!(RecipientCategory::parse("bank").is_err());
    }
}
