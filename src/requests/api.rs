//! Request and response bodies of privacy requests.

use super::login::LoginVerification;
use super::model::RequestRow;
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::domain::outcome::VerificationMethod;
use crate::domain::privacy_request::{RequestChannel, RequestKind, RequestOutcome, RequestStatus};
use crate::domain::text::{LongText, ShortText};
use crate::error::{ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A privacy request as received.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "kind": "erasure", "subject_id": "01936f0e-7a4c-7d5e-8b1a-2f3c4d5e6f70", "channel": "email",
    "received_at": "2026-11-24T09:15:00Z", "reference": "info@planpro.ee 2026-11-24 #812"
}))]
pub struct NewPrivacyRequest {
    pub kind: RequestKind,
    /// The subject the request is about, when known (404 when no such subject exists).
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub subject_id: Option<SubjectId>,
    pub channel: RequestChannel,
    /// When the request reached PlanPro; not in the future. Its Europe/Tallinn date starts the
    /// deadline.
    pub received_at: DateTime<Utc>,
    /// Where the request can be found, such as a mail's subject or a letter's number (at most
    /// 200 characters).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
}

impl Validate for NewPrivacyRequest {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.received_at > Utc::now() {
            errors.push(FieldError::new("received_at", "must not be in the future"));
        }
        if let Some(reference) = &self.reference {
            if let Err(message) = ShortText::parse(reference) {
                errors.push(FieldError::new("reference", message));
            }
        }
        errors
    }
}

/// An extension of the deadline to three months after receipt (GDPR Art. 12(3)).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "reason": "the request covers ten years of planning files held in three systems",
    "subject_informed_at": "2026-12-10T08:00:00Z"
}))]
pub struct Extension {
    /// Why more time is needed, as told to the person (at most 500 characters).
    #[schema(max_length = 500, min_length = 1)]
    pub reason: String,
    /// When the person was told of the extension and its reason; not in the future, not before
    /// the request was received, and no later than the original deadline.
    pub subject_informed_at: DateTime<Utc>,
}

impl Validate for Extension {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Err(message) = LongText::parse(&self.reason) {
            errors.push(FieldError::new("reason", message));
        }
        if self.subject_informed_at > Utc::now() {
            errors.push(FieldError::new(
                "subject_informed_at",
                "must not be in the future",
            ));
        }
        errors
    }
}

/// How the request ended.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "refused", "reason": "the requester could not be identified"}))]
pub struct Closing {
    pub outcome: RequestOutcome,
    /// Why; required when the outcome is `refused` (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// Closes as `fulfilled` although notices the request caused have no recipient's outcome
    /// or tasks are open, and says why (at most 500 characters, about the process, not the
    /// person). The request then shows it.
    #[serde(default)]
    #[schema(
        max_length = 500,
        example = "the partner was dissolved (registry entry 2026-12-01)"
    )]
    pub override_reason: Option<String>,
}

impl Validate for Closing {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = self
            .override_reason
            .as_deref()
            .map(|reason| LongText::field_errors("override_reason", reason))
            .unwrap_or_default();
        errors.extend(self.reason_errors());
        errors
    }
}

impl Closing {
    fn reason_errors(&self) -> Vec<FieldError> {
        match (&self.reason, self.outcome) {
            (None, RequestOutcome::Refused) => vec![FieldError::new(
                "reason",
                "is required when the outcome is `refused`",
            )],
            (Some(reason), _) => match LongText::parse(reason) {
                Ok(_) => Vec::new(),
                Err(message) => vec![FieldError::new("reason", message)],
            },
            (None, _) => Vec::new(),
        }
    }
}

/// A privacy request with its deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivacyRequest {
    #[schema(value_type = uuid::Uuid)]
    pub id: PrivacyRequestId,
    pub kind: RequestKind,
    #[schema(required = true, value_type = Option<uuid::Uuid>)]
    pub subject_id: Option<SubjectId>,
    pub channel: RequestChannel,
    pub received_at: DateTime<Utc>,
    #[schema(required = true)]
    pub reference: Option<String>,
    pub status: RequestStatus,
    /// The Europe/Tallinn date of `received_at`.
    pub received_on: NaiveDate,
    /// The last day to answer: one calendar month after `received_on` (the same day number, or
    /// the month's last day when it has none), three months once extended; when that day is a
    /// Saturday, a Sunday or an Estonian public holiday (1 Jan, 24 Feb, Good Friday, Easter
    /// Sunday, 1 May, Whit Sunday, 23 and 24 Jun, 20 Aug, 24 to 26 Dec), the next working day,
    /// up to five days later (Regulation 1182/71).
    pub due_on: NaiveDate,
    /// The one-month deadline, kept after an extension.
    pub original_due_on: NaiveDate,
    pub extended: bool,
    #[schema(required = true)]
    pub extension_reason: Option<String>,
    /// When the person was told of the extension.
    #[schema(required = true)]
    pub subject_informed_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub outcome: Option<RequestOutcome>,
    /// Why it ended so (always given for `refused`).
    #[schema(required = true)]
    pub outcome_reason: Option<String>,
    #[schema(required = true)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it was closed as `fulfilled` although recipients had not confirmed their outcome or
    /// tasks were open.
    #[schema(required = true)]
    pub override_reason: Option<String>,
    /// When the requester's identity was verified; null while unverified.
    #[schema(required = true)]
    pub verified_at: Option<DateTime<Utc>>,
    /// How it was verified.
    #[schema(required = true)]
    pub verification_method: Option<VerificationMethod>,
    /// Who recorded the verification (a staff `sub`).
    #[schema(required = true)]
    pub verified_by: Option<String>,
    /// The earlier open request of the same kind and subject that this one repeats; it is
    /// linked, never refused, and is verified on its own.
    #[schema(required = true, value_type = Option<uuid::Uuid>)]
    pub duplicate_of: Option<PrivacyRequestId>,
    /// The person's own words, when they filed the request themselves (at most 2000
    /// characters). Shown where one request is read (its filing, `GET
    /// /v1/privacy-requests/{id}`, the export); null in lists and in the answers of changes.
    #[schema(required = true)]
    pub details: Option<String>,
    /// How the person's own login vouched for them, when they filed the request themselves
    /// (`POST /v1/me/privacy-requests`); null for requests staff entered.
    #[schema(required = true)]
    pub verification: Option<LoginVerification>,
    /// The version, also sent as the `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PrivacyRequest {
    /// The answer for a stored request; an unknown stored name is an internal error.
    pub fn from_row(row: RequestRow) -> ApiResult<Self> {
        let verification = LoginVerification::of_row(&row)?;
        Ok(Self {
            id: row.id,
            kind: RequestKind::from_db(&row.kind)?,
            subject_id: row.subject_id,
            channel: RequestChannel::from_db(&row.channel)?,
            received_at: row.received_at,
            reference: row.reference,
            status: RequestStatus::from_db(&row.status)?,
            received_on: row.received_on,
            due_on: row.due_on,
            original_due_on: row.original_due_on,
            extended: row.extended,
            extension_reason: row.extension_reason,
            subject_informed_at: row.subject_informed_at,
            outcome: row
                .outcome
                .as_deref()
                .map(RequestOutcome::from_db)
                .transpose()?,
            outcome_reason: row.outcome_reason,
            closed_at: row.closed_at,
            override_reason: row.override_reason,
            verified_at: row.verified_at,
            verification_method: row
                .verification_method
                .as_deref()
                .map(VerificationMethod::from_db)
                .transpose()?,
            verified_by: row.verified_by,
            duplicate_of: row.duplicate_of,
            details: None,
            verification,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl PrivacyRequest {
    /// The answer for a stored request with the person's own words opened.
    pub fn with_details(conn: &mut diesel::PgConnection, row: RequestRow) -> ApiResult<Self> {
        let details = super::login::open_details(conn, &row)?;
        Ok(Self {
            details,
            ..Self::from_row(row)?
        })
    }
}

/// Trims free text that passed validation.
pub fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}
