//! Request and response bodies of disclosure authorizations, disclosure records and the partner
//! endpoints.

use super::fields::{categories, optional_text, required_text};
use super::model::{DisclosureRow, OpenedAuthorization, SubjectFields};
use crate::domain::disclosure::{DataCategory, LegalBasis};
use crate::domain::ids::{AuthorizationId, DisclosureId, RecipientId, SubjectId};
use crate::domain::text::check_controls;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// A new disclosure authorization.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAuthorization {
    /// The recipient allowed to receive the data.
    #[schema(value_type = uuid::Uuid)]
    pub recipient_id: RecipientId,
    /// The legal basis of the disclosure.
    pub legal_basis: LegalBasis,
    /// How the subject's consent was given (required for `consent`).
    #[schema(example = "signed form 2026-11-20, archive no. 117", max_length = 2000)]
    pub consent_evidence: Option<String>,
    /// The provision of law that obliges the disclosure (required for `legal_obligation`).
    #[schema(example = "Planeerimisseadus § 81", max_length = 500)]
    pub legal_reference: Option<String>,
    /// Which of the subject's data may be disclosed: at least one category, none twice.
    pub data_categories: Vec<DataCategory>,
    /// What the recipient may use the data for.
    #[schema(example = "detailed plan proceedings", max_length = 1000)]
    pub purpose: String,
    /// From when the authorization applies; now when absent.
    pub valid_from: Option<DateTime<Utc>>,
    /// Until when (exclusive) it applies; open-ended when absent. Must be after `valid_from`.
    pub valid_until: Option<DateTime<Utc>>,
    /// With `legal_basis` `consent` only: an opt-in purpose whose consent flag the authorization
    /// follows; it is active only while that flag is `given` or `renewed`.
    #[schema(example = "marketing_partners")]
    pub consent_purpose: Option<String>,
}

impl Validate for NewAuthorization {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.consent_purpose.is_some() && self.legal_basis != LegalBasis::Consent {
            errors.push(FieldError::new(
                "consent_purpose",
                "is allowed only when legal_basis is consent",
            ));
        }
        if let Some(purpose) = &self.consent_purpose {
            if let Err(message) = crate::domain::purpose_id::PurposeId::parse(purpose) {
                errors.push(FieldError::new("consent_purpose", message));
            }
        }
        match self.legal_basis {
            LegalBasis::Consent if self.consent_evidence.is_none() => errors.push(FieldError::new(
                "consent_evidence",
                "is required when legal_basis is consent",
            )),
            LegalBasis::LegalObligation if self.legal_reference.is_none() => {
                errors.push(FieldError::new(
                    "legal_reference",
                    "is required when legal_basis is legal_obligation",
                ));
            }
            _ => {}
        }
        optional_text(
            &mut errors,
            "consent_evidence",
            self.consent_evidence.as_deref(),
            2000,
        );
        optional_text(
            &mut errors,
            "legal_reference",
            self.legal_reference.as_deref(),
            500,
        );
        categories(&mut errors, "data_categories", &self.data_categories);
        required_text(&mut errors, "purpose", &self.purpose, 1000);
        if let Some(until) = self.valid_until {
            if until <= self.valid_from.unwrap_or_else(Utc::now) {
                errors.push(FieldError::new("valid_until", "must be after valid_from"));
            }
        }
        errors
    }
}

/// A disclosure authorization as stored, with whether it applies now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Authorization {
    #[schema(value_type = uuid::Uuid)]
    pub id: AuthorizationId,
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    #[schema(value_type = uuid::Uuid)]
    pub recipient_id: RecipientId,
    pub legal_basis: LegalBasis,
    pub consent_evidence: Option<String>,
    pub legal_reference: Option<String>,
    pub data_categories: Vec<DataCategory>,
    pub purpose: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// The opt-in purpose whose consent flag it follows, if any.
    #[schema(required = true)]
    pub consent_purpose: Option<String>,
    /// True when it is not revoked, `valid_from <= now < valid_until`, the recipient is active,
    /// and the consent it follows (if any) is `given` or `renewed`.
    pub active: bool,
    /// Why it is not active: `revoked`, `not_yet_valid`, `expired`, `recipient_suspended`, or
    /// `consent_<state>` (the followed flag's state, e.g. `consent_withdrawn`); null while active.
    #[schema(required = true, example = "consent_expired")]
    pub inactive_reason: Option<String>,
    /// Who recorded it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl Authorization {
    /// The response body of a stored row, `active` computed at `now`.
    pub fn from_row(opened: OpenedAuthorization, now: DateTime<Utc>) -> ApiResult<Self> {
        let row = opened.row;
        let consent = opened.consent_state.as_deref();
        let inactive_reason = if row.revoked_at.is_some() {
            Some("revoked".to_owned())
        } else if now < row.valid_from {
            Some("not_yet_valid".to_owned())
        } else if row.valid_until.is_some_and(|until| until <= now) {
            Some("expired".to_owned())
        } else if !opened.recipient_active {
            Some("recipient_suspended".to_owned())
        } else {
            consent
                .filter(|s| !matches!(*s, "given" | "renewed"))
                .map(|s| format!("consent_{s}"))
        };
        let active = inactive_reason.is_none() && row.is_active(opened.recipient_active, now);
        Ok(Self {
            id: row.id,
            subject_id: row.subject_id,
            recipient_id: row.recipient_id,
            legal_basis: LegalBasis::from_db(&row.legal_basis)?,
            consent_evidence: opened.consent_evidence,
            legal_reference: row.legal_reference,
            data_categories: DataCategory::from_db_all(&row.data_categories)?
                .into_iter()
                .collect(),
            purpose: row.purpose,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            revoked_at: row.revoked_at,
            revoked_reason: row.revoked_reason,
            revoked_by: row.revoked_by,
            consent_purpose: row.consent_purpose,
            active,
            inactive_reason,
            created_by: row.created_by,
            created_at: row.created_at,
        })
    }
}

/// Every authorization of a subject.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationList {
    pub items: Vec<Authorization>,
}

/// Why an authorization is revoked.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Revocation {
    /// For example the subject's withdrawal of consent.
    #[schema(example = "consent withdrawn by e-mail 2026-11-25", max_length = 1000)]
    pub reason: String,
}

impl Validate for Revocation {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        required_text(&mut errors, "reason", &self.reason, 1000);
        errors
    }
}

/// A disclosure made by staff, to be recorded.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDisclosure {
    /// Who received the data.
    #[schema(value_type = uuid::Uuid)]
    pub recipient_id: RecipientId,
    /// Which of the subject's data was disclosed: at least one category, none twice.
    pub data_categories: Vec<DataCategory>,
    /// How it was sent, such as `email`, `api`, `paper` or `portal`.
    #[schema(example = "email", max_length = 50)]
    pub channel: String,
    /// Anything worth keeping about the disclosure (no further personal data, please).
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Only when every authorization covering it is a legal obligation: the person is not shown
    /// the disclosure, those authorizations, their entries, or the notices to the recipient about
    /// them before this Europe/Tallinn date (after today), and it is no activity until then.
    #[schema(example = "2027-06-30")]
    pub subject_notice_withheld_until: Option<NaiveDate>,
    /// Why it is withheld (required with `subject_notice_withheld_until`, else not allowed).
    #[schema(example = "Kriminaalmenetluse seadustik § 214", max_length = 500)]
    pub withheld_reason: Option<String>,
}

impl Validate for NewDisclosure {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        categories(&mut errors, "data_categories", &self.data_categories);
        required_text(&mut errors, "channel", &self.channel, 50);
        if let Err(message) = check_controls(self.channel.trim(), false) {
            errors.push(FieldError::new("channel", message));
        }
        optional_text(&mut errors, "note", self.note.as_deref(), 2000);
        super::fields::withholding(
            &mut errors,
            (
                "subject_notice_withheld_until",
                self.subject_notice_withheld_until,
            ),
            ("withheld_reason", self.withheld_reason.as_deref()),
        );
        errors
    }
}

/// A disclosure that was made: by staff on record, or to a partner through its endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct Disclosure {
    #[schema(value_type = uuid::Uuid)]
    pub id: DisclosureId,
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    #[schema(value_type = uuid::Uuid)]
    pub recipient_id: RecipientId,
    pub data_categories: Vec<DataCategory>,
    /// `partner_api` for disclosures through the partner endpoint.
    pub channel: String,
    pub note: Option<String>,
    /// The authorizations that permitted it.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub authorization_ids: Vec<AuthorizationId>,
    /// Who disclosed (staff) or received (partner) the data.
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
    /// Until when (a Europe/Tallinn date) the person is not shown it; null: not withheld.
    #[schema(required = true)]
    pub subject_notice_withheld_until: Option<NaiveDate>,
    /// Why it is withheld.
    #[schema(required = true)]
    pub withheld_reason: Option<String>,
}

impl TryFrom<DisclosureRow> for Disclosure {
    type Error = ApiError;

    fn try_from(row: DisclosureRow) -> ApiResult<Self> {
        Ok(Self {
            id: row.id,
            subject_id: row.subject_id,
            recipient_id: row.recipient_id,
            data_categories: DataCategory::from_db_all(&row.data_categories)?
                .into_iter()
                .collect(),
            channel: row.channel,
            note: row.note,
            authorization_ids: row.authorization_ids,
            actor: row.actor,
            at: row.at,
            request_id: row.request_id,
            subject_notice_withheld_until: row.withheld_until,
            withheld_reason: row.withheld_reason,
        })
    }
}

/// A postal address.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerAddress {
    pub street: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// What a partner receives about a subject: `id`, and only the fields of the categories its
/// active authorizations cover. A field of a covered category is present (possibly null); a
/// field of any other category is absent.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerSubject {
    #[schema(value_type = uuid::Uuid)]
    pub id: SubjectId,
    /// Category `identity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub given_name: Option<String>,
    /// Category `identity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub family_name: Option<String>,
    /// Category `contact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Category `contact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Category `address`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<PartnerAddress>)]
    pub address: Option<Option<PartnerAddress>>,
    /// Category `personal_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub personal_code: Option<Option<String>>,
}

impl PartnerSubject {
    /// Keeps only the fields of `covered` categories.
    pub fn release(id: SubjectId, fields: SubjectFields, covered: &BTreeSet<DataCategory>) -> Self {
        let has = |c| covered.contains(&c);
        let identity = has(DataCategory::Identity);
        let contact = has(DataCategory::Contact);
        let has_address = [
            &fields.address_street,
            &fields.address_city,
            &fields.address_postal_code,
            &fields.address_country,
        ]
        .iter()
        .any(|part| part.is_some());
        let address = has_address.then_some(PartnerAddress {
            street: fields.address_street,
            city: fields.address_city,
            postal_code: fields.address_postal_code,
            country: fields.address_country,
        });
        Self {
            id,
            given_name: identity.then_some(fields.given_name),
            family_name: identity.then_some(fields.family_name),
            email: contact.then_some(fields.email),
            phone: contact.then_some(fields.phone),
            address: has(DataCategory::Address).then_some(address),
            personal_code: has(DataCategory::PersonalCode).then_some(fields.personal_code),
        }
    }
}
