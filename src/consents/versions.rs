//! Purpose versions: every text a person was asked to agree to, with the settings that rule the
//! grants made while it is current (validity, confirmation, minimum age). A material version of
//! an opt-in purpose invalidates earlier grants by raising the purpose's `material_version`: the
//! grants themselves are not rewritten, their state is computed when read.

use crate::db::schema::{purpose_versions, purposes};
use crate::domain::consent::Basis;
use crate::domain::consent_state::Confirmation;
use crate::domain::text::check_controls;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest text of a version in one language, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The longest policy URL.
pub const MAX_URL_CHARS: usize = 2000;

/// A version as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = purpose_versions, check_for_backend(Pg))]
pub struct VersionRow {
    pub purpose_id: String,
    pub version: i32,
    pub text_et: String,
    pub text_en: String,
    pub text_ru: Option<String>,
    pub text_sha256: String,
    pub policy_url: Option<String>,
    pub material: bool,
    pub validity_months: Option<i32>,
    pub confirmation: String,
    pub minimum_age: Option<i32>,
    pub created_at: DateTime<Utc>,
}

/// A version's text in each language.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionText {
    /// Estonian.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    pub et: Option<String>,
    /// English.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    pub en: Option<String>,
    /// Russian, when there is one.
    #[serde(default)]
    pub ru: Option<String>,
}

/// A version of a purpose: the text agreed to and the rules of grants made under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeVersion {
    pub purpose: String,
    pub version: i32,
    pub text: VersionText,
    /// SHA-256 (hex) of the RFC 8785 JSON of `text`.
    pub text_sha256: String,
    pub policy_url: Option<String>,
    /// Whether the change was material: earlier grants of an opt-in purpose no longer count.
    pub material: bool,
    /// How long a grant is valid, in calendar months; null: until withdrawn.
    pub validity_months: Option<i32>,
    pub confirmation: Confirmation,
    /// Below this age (on the grant's Tallinn date) a guardian must consent.
    pub minimum_age: Option<i32>,
    pub created_at: DateTime<Utc>,
}

/// Every version of a purpose, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    pub items: Vec<PurposeVersion>,
}

/// A new version of a purpose.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewVersion {
    /// Estonian and English required, Russian optional; each at most 20,000 characters.
    pub text: VersionText,
    /// Where the policy is published (https).
    pub policy_url: Option<String>,
    /// A material change invalidates earlier grants of an opt-in purpose.
    pub material: bool,
    /// 1 to 240 (opt-in purposes only).
    pub validity_months: Option<i32>,
    /// `none` unless given (opt-in purposes only for `double_opt_in`).
    pub confirmation: Option<Confirmation>,
    /// 13 to 18 (opt-in purposes only).
    pub minimum_age: Option<i32>,
}

pub use crate::domain::consent_state::notice_sha256 as text_sha256;

fn check_text(value: Option<&str>, field: &str, required: bool, errors: &mut Vec<FieldError>) {
    let text = value.map_or("", str::trim);
    if text.is_empty() {
        if required || value.is_some() {
            errors.push(FieldError::new(field, "is required"));
        }
    } else if let Err(message) = check_controls(text, true) {
        errors.push(FieldError::new(field, message));
    } else if text.chars().count() > MAX_TEXT_CHARS {
        let message = format!("must be at most {MAX_TEXT_CHARS} characters");
        errors.push(FieldError::new(field, message));
    }
}

fn check_url(url: &str) -> Result<(), &'static str> {
    let host = url
        .strip_prefix("https://")
        .ok_or("must be an https URL")?
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !valid_host || url.chars().count() > MAX_URL_CHARS || check_controls(url, false).is_err() {
        return Err("must be an https URL of at most 2000 characters");
    }
    Ok(())
}

impl NewVersion {
    /// Every bad field for a purpose of `basis` (the settings of grants are opt-in only).
    pub fn errors_for(&self, basis: Option<Basis>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_text(self.text.et.as_deref(), "text.et", true, &mut errors);
        check_text(self.text.en.as_deref(), "text.en", true, &mut errors);
        check_text(self.text.ru.as_deref(), "text.ru", false, &mut errors);
        if let Some(Err(message)) = self.policy_url.as_deref().map(check_url) {
            errors.push(FieldError::new("policy_url", message));
        }
        if self
            .validity_months
            .is_some_and(|m| !(1..=240).contains(&m))
        {
            errors.push(FieldError::new("validity_months", "must be 1 to 240"));
        }
        if self.minimum_age.is_some_and(|a| !(13..=18).contains(&a)) {
            errors.push(FieldError::new("minimum_age", "must be 13 to 18"));
        }
        if basis == Some(Basis::OptOut) {
            let opt_in_only = "is for opt-in purposes only";
            if self.validity_months.is_some() {
                errors.push(FieldError::new("validity_months", opt_in_only));
            }
            if self.confirmation == Some(Confirmation::DoubleOptIn) {
                errors.push(FieldError::new("confirmation", opt_in_only));
            }
            if self.minimum_age.is_some() {
                errors.push(FieldError::new("minimum_age", opt_in_only));
            }
        }
        errors
    }
}

impl Validate for NewVersion {
    fn validate(&self) -> Vec<FieldError> {
        self.errors_for(None)
    }
}

/// One version of a purpose.
pub fn find(
    conn: &mut PgConnection,
    purpose: &str,
    version: i32,
) -> QueryResult<Option<VersionRow>> {
    purpose_versions::table
        .find((purpose, version))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()
}

/// Every version of a purpose, oldest first.
pub fn list(conn: &mut PgConnection, purpose: &str) -> QueryResult<Vec<VersionRow>> {
    purpose_versions::table
        .filter(purpose_versions::purpose_id.eq(purpose))
        .order(purpose_versions::version)
        .select(VersionRow::as_select())
        .load(conn)
}

/// Writes version 1 of a new purpose: its description, no policy, no grant settings.
pub fn insert_first(conn: &mut PgConnection, purpose: &str, et: &str, en: &str) -> ApiResult<()> {
    diesel::insert_into(purpose_versions::table)
        .values((
            purpose_versions::purpose_id.eq(purpose),
            purpose_versions::version.eq(1),
            purpose_versions::text_et.eq(et),
            purpose_versions::text_en.eq(en),
            purpose_versions::text_sha256.eq(text_sha256(et, en, None)?),
            purpose_versions::material.eq(false),
            purpose_versions::confirmation.eq(Confirmation::None.as_str()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Appends version `version` (the purpose's row is locked by the caller) and makes it current.
pub fn insert_next(
    conn: &mut PgConnection,
    purpose: &str,
    version: i32,
    new: &NewVersion,
) -> ApiResult<VersionRow> {
    let trimmed = |t: &Option<String>| t.as_deref().map(str::trim).unwrap_or("").to_owned();
    let (et, en) = (trimmed(&new.text.et), trimmed(&new.text.en));
    let ru = new.text.ru.as_deref().map(str::trim).map(str::to_owned);
    let row: VersionRow = diesel::insert_into(purpose_versions::table)
        .values((
            purpose_versions::purpose_id.eq(purpose),
            purpose_versions::version.eq(version),
            purpose_versions::text_sha256.eq(text_sha256(&et, &en, ru.as_deref())?),
            purpose_versions::text_et.eq(et),
            purpose_versions::text_en.eq(en),
            purpose_versions::text_ru.eq(ru),
            purpose_versions::policy_url.eq(new.policy_url.as_deref().map(str::trim)),
            purpose_versions::material.eq(new.material),
            purpose_versions::validity_months.eq(new.validity_months),
            purpose_versions::confirmation
                .eq(new.confirmation.unwrap_or(Confirmation::None).as_str()),
            purpose_versions::minimum_age.eq(new.minimum_age),
        ))
        .returning(VersionRow::as_returning())
        .get_result(conn)?;
    let material = if new.material { version } else { 0 };
    diesel::update(purposes::table.find(purpose))
        .set((
            purposes::current_version.eq(version),
            purposes::material_version.eq(diesel::dsl::sql::<diesel::sql_types::Int4>(&format!(
                "greatest(material_version, {material})"
            ))),
        ))
        .execute(conn)?;
    Ok(row)
}

impl TryFrom<VersionRow> for PurposeVersion {
    type Error = ApiError;

    fn try_from(row: VersionRow) -> ApiResult<Self> {
        let text_sha256 = if row.text_sha256.is_empty() {
            // A version migrated from a purpose's description: hashed when read.
            text_sha256(&row.text_et, &row.text_en, row.text_ru.as_deref())?
        } else {
            row.text_sha256
        };
        Ok(Self {
            purpose: row.purpose_id,
            version: row.version,
            text: VersionText {
                et: Some(row.text_et),
                en: Some(row.text_en),
                ru: row.text_ru,
            },
            text_sha256,
            policy_url: row.policy_url,
            material: row.material,
            validity_months: row.validity_months,
            confirmation: Confirmation::from_db(&row.confirmation)?,
            minimum_age: row.minimum_age,
            created_at: row.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_text_hash_is_of_rfc_8785_json() {
        let expected: String = Sha256::digest(br#"{"en":"A \"b\"","et":"\u00f5","ru":"x"}"#)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // serde_json leaves non-ASCII as UTF-8, as RFC 8785 does.
        let utf8: String =
            Sha256::digest("{\"en\":\"A \\\"b\\\"\",\"et\":\"õ\",\"ru\":\"x\"}".as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        assert_ne!(expected, utf8);
        assert_eq!(text_sha256("õ", "A \"b\"", Some("x")).unwrap(), utf8);
    }

    #[test]
    fn opt_in_settings_on_an_opt_out_purpose_are_named() {
        let new: NewVersion = serde_json::from_value(serde_json::json!({
            "text": {"et": "t", "en": "t"}, "policy_url": "http://x", "material": true,
            "validity_months": 12, "confirmation": "double_opt_in", "minimum_age": 12
        }))
        .unwrap();
        let mut fields: Vec<String> = new
            .errors_for(Some(Basis::OptOut))
            .into_iter()
            .map(|e| e.field)
            .collect();
        fields.sort();
        fields.dedup();
        assert_eq!(
            fields,
            [
                "confirmation",
                "minimum_age",
                "policy_url",
                "validity_months"
            ]
        );
    }
}
