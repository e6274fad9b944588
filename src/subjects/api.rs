//! Request and response bodies of the subjects resource.

use super::checker::{collection_time, Checker};
use super::model::{RectificationRow, SubjectData, SubjectRow};
use crate::domain::country::CountryCode;
use crate::domain::email::Email;
use crate::domain::ids::{RectificationId, SubjectId};
use crate::domain::language::Language;
use crate::domain::personal_code::PersonalCode;
use crate::domain::phone::Phone;
use crate::domain::source_type::SourceType;
use crate::domain::subject_kind::SubjectKind;
use crate::domain::text::{LongText, Name, ShortText};
use crate::error::FieldError;
use crate::extract::Validate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A postal address; every line is optional, and an address with no line is no address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Address {
    /// Street, house and flat (at most 200 characters).
    #[schema(example = "Pikk 1-2", min_length = 1, max_length = 200)]
    pub street: Option<String>,
    /// City or parish (at most 200 characters).
    #[schema(example = "Tallinn", min_length = 1, max_length = 200)]
    pub city: Option<String>,
    /// Postal code (at most 200 characters).
    #[schema(example = "10123", min_length = 1, max_length = 200)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code, upper case.
    #[schema(example = "EE", pattern = r"^[A-Z]{2}$")]
    pub country: Option<String>,
}

/// Where the data came from (provenance). Data from a third party needs its provider's
/// attestation that it was collected lawfully.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Source {
    /// `data_subject` (the person), `public_registry` or `third_party`.
    #[serde(rename = "type")]
    #[schema(value_type = SourceType)]
    pub kind: String,
    /// Who provided the data (at most 200 characters).
    #[schema(example = "Partner OÜ", min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// The provider's reference, such as a contract (at most 200 characters).
    #[schema(example = "contract 2026-17", min_length = 1, max_length = 200)]
    pub reference: Option<String>,
    /// When the data was collected (RFC 3339); not in the future.
    pub collected_at: Option<DateTime<Utc>>,
    /// The provider's assurance of lawful collection (at most 500 characters); required for
    /// `third_party`.
    #[schema(
        example = "signed statement 2026-17-A",
        min_length = 1,
        max_length = 500
    )]
    pub lawful_collection_attestation: Option<String>,
}

const ADDRESS_KEYS: [&str; 4] = ["street", "city", "postal_code", "country"];
const SOURCE_KEYS: [&str; 5] = [
    "type",
    "name",
    "reference",
    "collected_at",
    "lawful_collection_attestation",
];

/// The fields of a subject that staff set: the body of `POST /v1/subjects`. A fixed set (data
/// minimisation): there is no place for other personal data.
///
/// Every field is checked and every bad one named at once, nested ones dotted (`source.name`).
/// The example names no personal code: a code is unique, so it could be sent only once.
// Only the shape is read on deserializing; every rule is checked in `SubjectFields::to_data`. So
// required fields are options (required in the schema) and the nested objects raw JSON: a
// missing or malformed field then never hides the others.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "kind": "client",
    "given_name": "Mari",
    "family_name": "Maasikas",
    "email": "mari@example.ee",
    "phone": "+3725551234",
    "address": {"street": "Pikk 1-2", "city": "Tallinn", "postal_code": "10123", "country": "EE"},
    "preferred_language": "et",
    "source": {"type": "data_subject", "collected_at": "2026-11-01T10:00:00Z"}
}))]
pub struct SubjectFields {
    /// `client` or `contact`.
    #[schema(value_type = SubjectKind, required = true)]
    pub kind: Option<String>,
    /// Given name(s): 1 to 200 characters.
    #[schema(value_type = String, required = true, example = "Mari", min_length = 1, max_length = 200)]
    pub given_name: Option<String>,
    /// Family name: 1 to 200 characters.
    #[schema(value_type = String, required = true, example = "Maasikas", min_length = 1, max_length = 200)]
    pub family_name: Option<String>,
    /// Estonian personal identification code (isikukood), checksum verified; unique.
    #[schema(example = "49403136526", pattern = r"^[1-6][0-9]{10}$")]
    pub personal_code: Option<String>,
    /// E-mail address; its domain is stored in lower case.
    #[schema(example = "mari@example.ee", format = Email, max_length = 254)]
    pub email: Option<String>,
    /// Phone number in E.164 form.
    #[schema(example = "+3725551234", pattern = r"^\+[1-9][0-9]{7,14}$")]
    pub phone: Option<String>,
    /// Postal address.
    #[schema(value_type = Option<Address>)]
    pub address: Option<Value>,
    /// `et`, `en` or `ru`.
    #[schema(value_type = Option<Language>)]
    pub preferred_language: Option<String>,
    /// Where the data came from.
    #[schema(value_type = Source, required = true)]
    pub source: Option<Value>,
    /// For a record imported from an older system: when the person was last active there (not
    /// in the future). Retention counts from it; without it, from the record's creation.
    pub last_activity_at: Option<DateTime<Utc>>,
}

impl SubjectFields {
    /// The validated, normalised record, or every bad field (nested ones dotted).
    pub fn to_data(&self) -> Result<SubjectData, Vec<FieldError>> {
        let mut c = Checker::default();
        let kind = c.required("kind", self.kind.as_deref(), SubjectKind::parse);
        let given_name = c.required("given_name", self.given_name.as_deref(), Name::parse);
        let family_name = c.required("family_name", self.family_name.as_deref(), Name::parse);
        let personal_code = c.optional(
            "personal_code",
            self.personal_code.as_deref(),
            PersonalCode::parse,
        );
        let email = c.optional("email", self.email.as_deref(), Email::parse);
        let phone = c.optional("phone", self.phone.as_deref(), Phone::parse);
        let language = c.optional(
            "preferred_language",
            self.preferred_language.as_deref(),
            Language::parse,
        );

        let address = c.object("address", self.address.as_ref(), &ADDRESS_KEYS);
        let line = |c: &mut Checker, key| {
            let raw = c.text(address, "address", key);
            c.optional(&format!("address.{key}"), raw, ShortText::parse)
        };
        let street = line(&mut c, "street");
        let city = line(&mut c, "city");
        let postal_code = line(&mut c, "postal_code");
        let raw_country = c.text(address, "address", "country");
        let country = c.optional("address.country", raw_country, CountryCode::parse);

        if self.source.is_none() {
            c.0.push(FieldError::new("source", "is required"));
        }
        let source = c.object("source", self.source.as_ref(), &SOURCE_KEYS);
        let raw_type = c.text(source, "source", "type");
        let source_type = if source.is_some() {
            c.required("source.type", raw_type, SourceType::parse)
        } else {
            None
        };
        let raw_name = c.text(source, "source", "name");
        let source_name = c.optional("source.name", raw_name, ShortText::parse);
        let raw_reference = c.text(source, "source", "reference");
        let reference = c.optional("source.reference", raw_reference, ShortText::parse);
        let raw_collected_at = c.text(source, "source", "collected_at");
        let collected_at = c.optional("source.collected_at", raw_collected_at, collection_time);
        let raw_attestation = c.text(source, "source", "lawful_collection_attestation");
        let attestation = c.optional(
            "source.lawful_collection_attestation",
            raw_attestation,
            LongText::parse,
        );
        let attestation_given = source
            .and_then(|s| s.get("lawful_collection_attestation"))
            .is_some_and(|v| !v.is_null());
        if source_type.is_some_and(SourceType::needs_attestation) && !attestation_given {
            c.0.push(FieldError::new(
                "source.lawful_collection_attestation",
                "is required when source.type is third_party",
            ));
        }

        let (Some(kind), Some(given_name), Some(family_name), Some(source_type), true) =
            (kind, given_name, family_name, source_type, c.0.is_empty())
        else {
            return Err(c.0);
        };
        Ok(SubjectData {
            kind: kind.as_str().to_owned(),
            given_name: given_name.into_inner(),
            family_name: family_name.into_inner(),
            personal_code: personal_code.map(|v| v.as_str().to_owned()),
            email: email.map(|v| v.as_str().to_owned()),
            phone: phone.map(|v| v.as_str().to_owned()),
            address_street: street.map(ShortText::into_inner),
            address_city: city.map(ShortText::into_inner),
            address_postal_code: postal_code.map(ShortText::into_inner),
            address_country: country.map(|v| v.as_str().to_owned()),
            preferred_language: language.map(|v| v.as_str().to_owned()),
            source_type: source_type.as_str().to_owned(),
            source_name: source_name.map(ShortText::into_inner),
            source_reference: reference.map(ShortText::into_inner),
            source_collected_at: collected_at,
            source_attestation: attestation.map(LongText::into_inner),
        })
    }
}

impl Validate for SubjectFields {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = self.to_data().err().unwrap_or_default();
        if self.last_activity_at.is_some_and(|at| at > Utc::now()) {
            errors.push(FieldError::new(
                "last_activity_at",
                "must not be in the future",
            ));
        }
        errors
    }
}

/// A subject record as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subject {
    /// The subject's id (UUID v7).
    #[schema(value_type = uuid::Uuid)]
    pub id: SubjectId,
    /// Increases with every rectification; the `ETag`.
    pub version: i32,
    /// `client` or `contact`.
    #[schema(value_type = SubjectKind)]
    pub kind: String,
    /// Given name(s).
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Estonian personal identification code.
    pub personal_code: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number in E.164 form.
    pub phone: Option<String>,
    /// Postal address; `null` when no line is known.
    pub address: Option<Address>,
    /// `et`, `en` or `ru`.
    #[schema(value_type = Option<Language>)]
    pub preferred_language: Option<String>,
    /// Where the data came from.
    pub source: Source,
    /// The information owed under Art. 14 when the data did not come from the person (`source.type`
    /// other than `data_subject`); `null` otherwise.
    pub art14: Option<crate::art14::api::Art14>,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
    /// Its creation (or the last activity an import brought), then its last rectification,
    /// consent change or staff disclosure record: what retention counts from.
    pub last_activity_at: DateTime<Utc>,
    /// The restriction of processing in force (Art. 18); `null` when none is.
    pub restriction: Option<SubjectRestriction>,
}

impl Subject {
    /// The record as answered, with its Art. 14 status read in the caller's connection.
    pub fn with_art14(
        row: &SubjectRow,
        conn: &mut diesel::PgConnection,
    ) -> crate::error::ApiResult<Self> {
        let mut subject = Self::from(row);
        if subject.source.kind != crate::domain::source_type::SourceType::DataSubject.as_str() {
            subject.art14 = crate::art14::model::status(conn, row.id)?;
        }
        Ok(subject)
    }
}

/// A restriction of processing in force, as the subject record shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectRestriction {
    /// The Art. 18(1) ground.
    #[schema(value_type = crate::domain::restriction::RestrictionGround)]
    pub ground: String,
    /// Since when.
    pub since: DateTime<Utc>,
}

impl From<&SubjectRow> for Subject {
    fn from(row: &SubjectRow) -> Self {
        let data = &row.data;
        let lines = [
            &data.address_street,
            &data.address_city,
            &data.address_postal_code,
            &data.address_country,
        ];
        Self {
            id: row.id,
            version: row.version,
            kind: data.kind.clone(),
            given_name: data.given_name.clone(),
            family_name: data.family_name.clone(),
            personal_code: data.personal_code.clone(),
            email: data.email.clone(),
            phone: data.phone.clone(),
            address: lines.iter().any(|line| line.is_some()).then(|| Address {
                street: data.address_street.clone(),
                city: data.address_city.clone(),
                postal_code: data.address_postal_code.clone(),
                country: data.address_country.clone(),
            }),
            preferred_language: data.preferred_language.clone(),
            source: Source {
                kind: data.source_type.clone(),
                name: data.source_name.clone(),
                reference: data.source_reference.clone(),
                collected_at: data.source_collected_at,
                lawful_collection_attestation: data.source_attestation.clone(),
            },
            // Filled by the handlers that answer it (`Subject::with_art14`): it is not in the row.
            art14: None,
            created_at: row.created_at,
            updated_at: row.updated_at,
            last_activity_at: row.last_activity_at,
            restriction: match (&row.restriction_ground, row.restricted_since) {
                (Some(ground), Some(since)) => Some(SubjectRestriction {
                    ground: ground.clone(),
                    since,
                }),
                _ => None,
            },
        }
    }
}

/// One corrected field: its value before and after, why, who and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rectification {
    /// The rectification's id.
    #[schema(value_type = uuid::Uuid)]
    pub id: RectificationId,
    /// The field, nested fields dotted (`address.city`, `source.type`).
    #[schema(example = "email")]
    pub field: String,
    /// The value before; `null` when there was none.
    pub old_value: Option<Value>,
    /// The value after; `null` when the field was cleared.
    pub new_value: Option<Value>,
    /// Why it was corrected.
    pub reason: String,
    /// Who corrected it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The request that made the change, as in the access log.
    pub request_id: String,
}

impl From<RectificationRow> for Rectification {
    fn from(row: RectificationRow) -> Self {
        Self {
            id: row.id,
            field: row.field,
            old_value: row.old_value,
            new_value: row.new_value,
            reason: row.reason,
            actor: row.actor,
            at: row.at,
            request_id: row.request_id,
        }
    }
}
