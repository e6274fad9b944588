//! Request and response bodies of the consents' purposes: a purpose as listed and read, and a
//! new one with its every-field check.

use super::versions::{PurposeVersion, VersionRow, VersionText};
use crate::domain::consent::Basis;
use crate::domain::consent_state::Confirmation;
use crate::domain::purpose_id::PurposeId;
use crate::domain::text::check_controls;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest purpose description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// A purpose's description in each language.
#[derive(Debug, Serialize, ToSchema)]
pub struct Descriptions {
    /// Estonian.
    pub et: String,
    /// English.
    pub en: String,
}

/// A purpose of processing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Purpose {
    /// The purpose's id, used as `{purpose}` in consent paths.
    #[schema(example = "marketing_planpro")]
    pub id: String,
    /// `opt_out`: eligible unless the person refused; `opt_in`: eligible only with consent.
    pub basis: Basis,
    /// What the purpose is, in Estonian and English (version 1's text).
    pub description: Descriptions,
    /// The version in force: its settings rule grants made now. The purpose's `ETag`.
    pub current_version: i32,
    /// The text of the version in force.
    pub text: VersionText,
    /// SHA-256 (hex) of the RFC 8785 JSON of `text`.
    pub text_sha256: String,
    pub policy_url: Option<String>,
    /// How long a grant is valid, in calendar months; null: until withdrawn.
    pub validity_months: Option<i32>,
    pub confirmation: Confirmation,
    /// Below this age a guardian must consent.
    pub minimum_age: Option<i32>,
}

/// Every purpose.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeList {
    pub items: Vec<Purpose>,
}

/// The descriptions of a new purpose; both are required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDescriptions {
    /// Estonian, at most 1000 characters.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    pub et: Option<String>,
    /// English, at most 1000 characters.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    pub en: Option<String>,
}

/// A purpose to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPurpose {
    /// The purpose's id, used in paths: a lowercase letter, then 1 to 63 lowercase letters,
    /// digits or underscores.
    #[schema(example = "newsletter", pattern = r"^[a-z][a-z0-9_]{1,63}$")]
    pub id: String,
    pub basis: Basis,
    pub description: NewDescriptions,
}

/// A new purpose whose every field has been checked.
pub struct CheckedPurpose {
    pub id: PurposeId,
    pub basis: Basis,
    pub et: String,
    pub en: String,
}

fn required_text(
    value: Option<&String>,
    field: &str,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let text = value.map_or("", |v| v.trim());
    if text.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if let Err(message) = check_controls(text, true) {
        errors.push(FieldError::new(field, message));
    } else if text.chars().count() > max_chars {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    text.to_owned()
}

impl NewPurpose {
    /// The checked purpose, or every bad field.
    pub fn check(&self) -> Result<CheckedPurpose, Vec<FieldError>> {
        let mut errors = Vec::new();
        let id = PurposeId::parse(&self.id).map_err(|message| FieldError::new("id", message));
        let et = required_text(
            self.description.et.as_ref(),
            "description.et",
            MAX_DESCRIPTION_CHARS,
            &mut errors,
        );
        let en = required_text(
            self.description.en.as_ref(),
            "description.en",
            MAX_DESCRIPTION_CHARS,
            &mut errors,
        );
        match id {
            Ok(id) if errors.is_empty() => Ok(CheckedPurpose {
                id,
                basis: self.basis,
                et,
                en,
            }),
            Ok(_) => Err(errors),
            Err(error) => {
                errors.push(error);
                Err(errors)
            }
        }
    }
}

impl Validate for NewPurpose {
    fn validate(&self) -> Vec<FieldError> {
        self.check().err().unwrap_or_default()
    }
}

impl TryFrom<(super::model::PurposeRow, VersionRow)> for Purpose {
    type Error = ApiError;

    fn try_from((row, version): (super::model::PurposeRow, VersionRow)) -> ApiResult<Self> {
        let version = PurposeVersion::try_from(version)?;
        Ok(Self {
            basis: Basis::from_db(&row.basis)?,
            id: row.id,
            description: Descriptions {
                et: row.description_et,
                en: row.description_en,
            },
            current_version: row.current_version,
            text: version.text,
            text_sha256: version.text_sha256,
            policy_url: version.policy_url,
            validity_months: version.validity_months,
            confirmation: version.confirmation,
            minimum_age: version.minimum_age,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_purposes_are_checked_field_by_field() {
        let purpose: NewPurpose = serde_json::from_value(serde_json::json!({
            "id": "Bad-Id", "basis": "opt_in", "description": {"et": "  ", "en": "x".repeat(1001)}
        }))
        .unwrap();
        let mut named: Vec<_> = purpose.validate().into_iter().map(|e| e.field).collect();
        named.sort();
        assert_eq!(named, ["description.en", "description.et", "id"]);
    }
}
