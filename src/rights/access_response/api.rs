//! The access response as clients read it (contract v3, section B): every key always present,
//! empty lists and nulls included, so that a reader never has to guess whether a part was left out.

use crate::activities::api::{Article, Transfer};
use crate::domain::language::Language;
use crate::rights::export::SubjectExport;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// What Art. 15 owes a person, specific to them: their data and everything said about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessResponse {
    pub confirmation: AccessConfirmation,
    /// The export (`GET /v1/subjects/{id}/export`).
    pub personal_data: SubjectExport,
    /// Always `none`: PlanPro makes no decision about a person by automated means.
    #[schema(example = "none")]
    pub automated_decision_making: String,
    /// The active processing activities covering the person's kind, then each consent purpose
    /// the person is eligible for.
    pub purposes: Vec<AccessPurpose>,
    /// Every recipient that received the person's data, from the disclosure ledger.
    pub recipients: Vec<AccessRecipient>,
    /// The recipient categories of the active activities (else the general ones).
    pub recipient_categories: Vec<String>,
    pub retention: AccessRetention,
    /// The record's `source`, with `art14` (the Art. 14 information status; null where none).
    #[schema(value_type = Object)]
    pub source: Value,
    /// The transfers outside the EEA the active activities declare.
    pub third_country_transfers: Vec<Transfer>,
    pub complaint: AccessComplaint,
    pub rights: Vec<AccessRight>,
    /// One row per Tallinn date, action, actor kind, organisation and purpose; no staff identity.
    pub access_log_summary: Vec<AccessLogSummaryRow>,
    pub generated_at: DateTime<Utc>,
    #[schema(value_type = Language)]
    pub lang: Language,
}

/// That the person's data is processed, and by whom.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessConfirmation {
    /// Always `true`: an answer exists only for a person whose data is held.
    pub processing: bool,
    pub subject_id: Uuid,
    pub controller: AccessController,
}

/// The controller as configured (`CONTROLLER_*`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessController {
    pub name: String,
    pub registry_code: Option<String>,
    pub address: Option<String>,
    pub email: String,
}

/// One purpose of processing.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessPurpose {
    /// An activity's id or a consent purpose's id.
    pub id: String,
    /// `activity` or `consent_purpose`.
    #[schema(example = "consent_purpose")]
    pub kind: String,
    /// Its name in the response's language.
    pub name: String,
    /// Null for an activity that declares none.
    pub legal_basis: Option<AccessLegalBasis>,
    /// The declared categories that the person's record holds.
    pub categories: Vec<String>,
}

/// A purpose's lawful basis.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLegalBasis {
    pub article: Article,
    pub reference: String,
}

/// A recipient by name, with what it received and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRecipient {
    pub recipient_id: Uuid,
    pub name: String,
    pub registry_code: Option<String>,
    pub category: String,
    /// The categories actually released to it.
    pub data_categories: Vec<String>,
    pub first_disclosed_at: DateTime<Utc>,
    pub last_disclosed_at: DateTime<Utc>,
    /// How many disclosures (staff records and partner reads).
    pub count: i64,
    /// Every notice sent to it about the person (Art. 19), with the recipient's outcome.
    pub notices: Vec<AccessNotice>,
}

/// A notice to a recipient and what it reported doing.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessNotice {
    #[serde(rename = "type")]
    pub kind: String,
    /// Null until the recipient reports one.
    pub outcome: Option<String>,
}

/// How long the person's own data is kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRetention {
    /// The last day it is kept (v2's keep date); null without a rule.
    pub keep_until: Option<NaiveDate>,
    /// The first day it is due for erasure; null without a rule.
    pub due_from: Option<NaiveDate>,
    pub rule: Option<AccessRetentionRule>,
    /// The rule in words, in the response's language.
    pub criterion: String,
    /// The active holds that keep the data past its date (Art. 17(3)).
    pub holds: Vec<AccessHold>,
}

/// The retention rule of the person's kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRetentionRule {
    pub subject_kind: String,
    pub keep_months: i32,
    pub legal_basis: String,
}

/// An active hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessHold {
    pub ground: String,
    pub review_on: NaiveDate,
}

/// Where to complain (`AUTHORITY_*`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessComplaint {
    pub authority: String,
    pub address: String,
    pub email: String,
    pub url: String,
}

/// One of the person's rights and how to use it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRight {
    /// `rectification`, `erasure`, `restriction`, `objection`, `portability` or
    /// `withdraw_consent`.
    pub right: String,
    /// The GDPR article.
    #[schema(example = "16")]
    pub article: String,
    /// How to use it, in the response's language.
    pub how: String,
    /// The endpoint staff use to carry it out.
    pub endpoint: String,
}

/// Who used the person's data, how often, on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogSummaryRow {
    /// The Tallinn date.
    pub date: NaiveDate,
    pub action: String,
    /// The action in the response's language.
    pub label: String,
    /// `you`, `recipient`, `system` or `staff`; never who.
    pub actor_kind: String,
    pub organisation: AccessOrganisation,
    /// The purpose stated (`X-Access-AccessPurpose`), if any.
    pub purpose: Option<String>,
    pub count: i64,
}

/// The organisation that acted: a recipient, else the controller.
#[derive(Debug, Serialize, ToSchema, Clone, PartialEq, Eq)]
pub struct AccessOrganisation {
    pub name: String,
    pub registry_code: Option<String>,
}
