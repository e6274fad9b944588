//! The body of a processing activity (Art. 30(1)) as clients send it and the register shows it.

use crate::domain::country::CountryCode as Country;
use crate::domain::ids::{ActivityId, RetentionRuleId};
use crate::domain::recipient::RecipientCategory;
use crate::domain::stored::stored_enum;
use crate::domain::subject_kind::SubjectKind;
use crate::domain::text::ShortText;
use crate::error::FieldError;
use crate::extract::Validate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest list an activity holds.
pub const MAX_ITEMS: usize = 50;

stored_enum! {
    /// What an activity processes: the subject record's categories and the records kept about it.
    RecordCategory {
        Identity = "identity",
        Contact = "contact",
        Address = "address",
        PersonalCode = "personal_code",
        ConsentRecords = "consent_records",
        DisclosureRecords = "disclosure_records",
        RequestRecords = "request_records",
        AccessLog = "access_log",
    }
}

stored_enum! {
    /// The lawful basis of Art. 6(1), by its point.
    Article {
        #[serde(rename = "6(1)(a)")]
        A = "6(1)(a)",
        #[serde(rename = "6(1)(b)")]
        B = "6(1)(b)",
        #[serde(rename = "6(1)(c)")]
        C = "6(1)(c)",
        #[serde(rename = "6(1)(d)")]
        D = "6(1)(d)",
        #[serde(rename = "6(1)(e)")]
        E = "6(1)(e)",
        #[serde(rename = "6(1)(f)")]
        F = "6(1)(f)",
    }
}

stored_enum! {
    /// What makes a transfer outside the EEA lawful (Chapter V).
    Safeguard {
        Adequacy = "adequacy",
        Sccs = "sccs",
        Bcr = "bcr",
        #[serde(rename = "derogation_49")]
        Derogation49 = "derogation_49",
    }
}

stored_enum! {
    /// Whether an activity is carried out now; a retired one stays in the register's history.
    ActivityStatus {
        Active = "active",
        Retired = "retired",
    }
}

/// A text in Estonian and English (each 1 to 200 characters).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Bilingual {
    #[schema(max_length = 200)]
    pub et: String,
    #[schema(max_length = 200)]
    pub en: String,
}

/// The controller (default: the configured one).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Controller {
    #[schema(max_length = 200)]
    pub name: String,
    /// An Estonian registry code (8 digits, checked), or null.
    #[serde(default)]
    pub registry_code: Option<String>,
}

/// The lawful basis.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActivityLegalBasis {
    pub article: Article,
    /// The law, contract or assessment relied on.
    #[schema(max_length = 200)]
    pub reference: String,
}

/// A transfer to a country outside the EEA.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transfer {
    /// ISO 3166-1 alpha-2, outside the EEA.
    pub country: String,
    pub safeguard: Safeguard,
    #[schema(max_length = 200)]
    pub reference: String,
}

/// How long the data is kept: a retention rule of the service, or a criterion in words.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Retention {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub rule_id: Option<RetentionRuleId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<Bilingual>,
}

/// A processing activity as sent (create; a `PATCH` is a merge patch of the same fields).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": {"et": "Pakkumised partneritelt", "en": "Offers from partners"},
    "purposes": ["marketing_partners"],
    "purpose_description": {"et": "Partnerite pakkumised", "en": "Offers of contract partners"},
    "legal_basis": {"article": "6(1)(a)", "reference": "consent form v3"},
    "subject_kinds": ["client"], "data_categories": ["identity", "contact"],
    "recipient_categories": ["platform_service_provider"], "transfers": [],
    "retention": {"criterion": {"et": "kuni nõusoleku tagasivõtmiseni", "en": "until consent is withdrawn"}},
    "security_measures": ["encryption at rest"], "owner": "marketing lead",
    "reviewed_at": "2026-11-30T10:00:00Z", "status": "active"
}))]
pub struct ActivityBody {
    pub name: Bilingual,
    #[serde(default)]
    pub controller: Option<Controller>,
    /// Purpose ids (`GET /v1/purposes`); unknown ones are refused.
    pub purposes: Vec<String>,
    pub purpose_description: Bilingual,
    #[serde(default)]
    pub legal_basis: Option<ActivityLegalBasis>,
    pub subject_kinds: Vec<SubjectKind>,
    pub data_categories: Vec<RecordCategory>,
    #[serde(default)]
    pub recipient_categories: Vec<RecipientCategory>,
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    #[serde(default)]
    pub retention: Option<Retention>,
    #[serde(default)]
    pub security_measures: Vec<String>,
    /// The role answerable for the activity.
    #[schema(max_length = 200)]
    pub owner: String,
    #[serde(default)]
    pub reviewed_at: Option<DateTime<Utc>>,
    /// `active` (the default) or `retired`.
    #[serde(default)]
    pub status: Option<ActivityStatus>,
}

/// What the service adds to an activity: its id, version and times.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActivityMeta {
    #[schema(value_type = uuid::Uuid)]
    pub id: ActivityId,
    /// The version, also sent as the `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A processing activity with its version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    #[serde(flatten)]
    pub meta: ActivityMeta,
    #[serde(flatten)]
    pub body: ActivityBody,
}

/// One version of an activity, as it stood from `changed_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityVersion {
    pub version: i32,
    pub activity: Activity,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

fn text(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    errors.extend(ShortText::field_errors(field, value));
}

fn bilingual(errors: &mut Vec<FieldError>, field: &str, value: &Bilingual) {
    text(errors, &format!("{field}.et"), &value.et);
    text(errors, &format!("{field}.en"), &value.en);
}

fn list_size<T>(errors: &mut Vec<FieldError>, field: &str, list: &[T], min: usize) {
    if list.len() < min {
        errors.push(FieldError::new(field, format!("must hold at least {min}")));
    }
    if list.len() > MAX_ITEMS {
        errors.push(FieldError::new(
            field,
            format!("must hold at most {MAX_ITEMS}"),
        ));
    }
}

impl Validate for ActivityBody {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        bilingual(&mut e, "name", &self.name);
        bilingual(&mut e, "purpose_description", &self.purpose_description);
        if let Some(controller) = &self.controller {
            text(&mut e, "controller.name", &controller.name);
            if let Some(code) = &controller.registry_code {
                if let Err(m) = crate::domain::registry_code::RegistryCode::parse(code) {
                    e.push(FieldError::new("controller.registry_code", m));
                }
            }
        }
        list_size(&mut e, "purposes", &self.purposes, 1);
        for (i, purpose) in self.purposes.iter().enumerate() {
            if crate::domain::purpose_id::PurposeId::parse(purpose).is_err() {
                e.push(FieldError::new(
                    format!("purposes[{i}]"),
                    "is not a purpose id",
                ));
            }
        }
        if let Some(basis) = &self.legal_basis {
            text(&mut e, "legal_basis.reference", &basis.reference);
        }
        list_size(&mut e, "subject_kinds", &self.subject_kinds, 1);
        list_size(&mut e, "data_categories", &self.data_categories, 1);
        list_size(
            &mut e,
            "recipient_categories",
            &self.recipient_categories,
            0,
        );
        list_size(&mut e, "transfers", &self.transfers, 0);
        for (i, transfer) in self.transfers.iter().enumerate() {
            match Country::parse(&transfer.country) {
                Ok(c) if is_eea(c.as_str()) => e.push(FieldError::new(
                    format!("transfers[{i}].country"),
                    "is in the EEA: only transfers outside it are listed",
                )),
                Ok(_) => {}
                Err(m) => e.push(FieldError::new(format!("transfers[{i}].country"), m)),
            }
            text(
                &mut e,
                &format!("transfers[{i}].reference"),
                &transfer.reference,
            );
        }
        if let Some(retention) = &self.retention {
            match (&retention.rule_id, &retention.criterion) {
                (Some(_), None) => {}
                (None, Some(criterion)) => bilingual(&mut e, "retention.criterion", criterion),
                _ => e.push(FieldError::new(
                    "retention",
                    "must hold exactly one of `rule_id` and `criterion`",
                )),
            }
        }
        list_size(&mut e, "security_measures", &self.security_measures, 0);
        for (i, measure) in self.security_measures.iter().enumerate() {
            text(&mut e, &format!("security_measures[{i}]"), measure);
        }
        text(&mut e, "owner", &self.owner);
        if self.reviewed_at.is_some_and(|at| at > Utc::now()) {
            e.push(FieldError::new("reviewed_at", "must not be in the future"));
        }
        e
    }
}

/// The EEA: the EU's 27 states, Iceland, Liechtenstein and Norway.
fn is_eea(code: &str) -> bool {
    const EEA: [&str; 30] = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    ];
    EEA.contains(&code)
}
