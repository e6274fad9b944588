//! Request and response bodies of the consents resource.

use crate::domain::consent::{ConsentStatus, Decision, Method};
use crate::domain::consent_state::ConsentState;
use crate::domain::ids::{EventId, SubjectId};
use crate::domain::text::check_controls;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest consent evidence, in characters.
pub const MAX_EVIDENCE_CHARS: usize = 2000;
/// The most ids one eligibility check may ask about.
pub const MAX_ELIGIBILITY_IDS: usize = 100_000;

/// The state of one consent flag.
#[derive(Debug, Serialize, ToSchema)]
pub struct Consent {
    /// The purpose's id.
    pub purpose: String,
    /// The last decision recorded (v1's meaning).
    pub status: ConsentStatus,
    /// Whether the person may be contacted for this purpose now.
    pub eligible: bool,
    /// The lifecycle state, computed when read.
    pub state: ConsentState,
    /// The purpose version of the last grant (of the first decision while none was granted).
    #[schema(required = true)]
    pub purpose_version: Option<i32>,
    /// When the current grant took effect (a renewal's own time, a double opt-in's confirmation).
    #[schema(required = true)]
    pub given_at: Option<DateTime<Utc>>,
    /// When the current grant expires; null: until withdrawn.
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    /// While a double opt-in waits: when its confirmation link lapses.
    #[schema(required = true)]
    pub confirmation_expires_at: Option<DateTime<Utc>>,
    /// The guardian who consented for a child.
    #[schema(required = true, value_type = Option<uuid::Uuid>)]
    pub guardian_subject_id: Option<SubjectId>,
    /// When the flag was last set; null while `unset`.
    #[schema(required = true)]
    pub updated_at: Option<DateTime<Utc>>,
    /// A double opt-in's one-time token (43 base64url characters): only in the answer of the
    /// grant that asked for it; null everywhere else, an idempotent replay included.
    #[schema(required = true)]
    pub confirmation_token: Option<String>,
}

/// A decision to record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsentChange {
    pub status: Decision,
    pub method: Method,
    /// What proves the decision (a form id, a letter's reference, …), at most 2000 characters.
    pub evidence: Option<String>,
    /// The purpose version the person was shown; absent: the current one. Not the current
    /// one: 409 `purpose-version-stale`.
    pub purpose_version: Option<i32>,
    /// For a subject under the version's `minimum_age`: the guardian who consents, another
    /// subject 18 or older by their own personal code.
    pub guardian: Option<GuardianConsent>,
    /// For a subject without a personal code: staff confirm the person's age, with evidence.
    pub age_confirmed: Option<bool>,
    /// What proves the confirmed age, at most 2000 characters.
    pub age_evidence: Option<String>,
}

/// A guardian's consent for a child.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GuardianConsent {
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    /// What proves the guardian's consent, at most 2000 characters.
    pub evidence: String,
}

impl ConsentChange {
    /// The evidence, trimmed; blank counts as none.
    pub fn evidence(&self) -> Option<String> {
        self.evidence
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
    }
}

impl ConsentChange {
    /// The evidence as recorded: with a guardian's consent or a confirmed age, the RFC 8785 JSON
    /// of `{"age_evidence"?, "evidence"?, "guardian_evidence"?}`.
    pub fn recorded_evidence(&self) -> Option<String> {
        let confirmed = self.age_confirmed == Some(true);
        if self.guardian.is_none() && !confirmed {
            return self.evidence();
        }
        let mut object = serde_json::Map::new();
        if let (true, Some(age)) = (confirmed, &self.age_evidence) {
            object.insert("age_evidence".into(), age.trim().into());
        }
        if let Some(evidence) = self.evidence() {
            object.insert("evidence".into(), evidence.into());
        }
        if let Some(guardian) = &self.guardian {
            object.insert("guardian_evidence".into(), guardian.evidence.trim().into());
        }
        // serde_json's map keeps keys sorted and prints without spaces.
        serde_json::to_string(&object).ok()
    }
}

/// A free-text evidence field: when present, no hidden text, not blank if `required`, at most
/// [`MAX_EVIDENCE_CHARS`].
fn check_evidence(field: &str, value: Option<&str>, required: bool) -> Option<FieldError> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    let Some(value) = value else {
        return required.then(|| FieldError::new(field, "is required"));
    };
    let checked = check_controls(value, true).and_then(|()| {
        if value.chars().count() > MAX_EVIDENCE_CHARS {
            Err(format!("must be at most {MAX_EVIDENCE_CHARS} characters"))
        } else {
            Ok(())
        }
    });
    checked.err().map(|message| FieldError::new(field, message))
}

impl Validate for ConsentChange {
    fn validate(&self) -> Vec<FieldError> {
        let confirmed = self.age_confirmed == Some(true);
        // Only the person's own call records `portal` (`PUT /v1/me/consents/{purpose}`), with
        // their login as the evidence: staff may not claim it.
        let portal = (self.method == Method::Portal).then(|| {
            FieldError::new(
                "method",
                "`portal` is recorded only for the person's own call \
                 (PUT /v1/me/consents/{purpose})",
            )
        });
        [
            portal,
            check_evidence("evidence", self.evidence.as_deref(), false),
            check_evidence("age_evidence", self.age_evidence.as_deref(), confirmed),
            self.guardian
                .as_ref()
                .and_then(|g| check_evidence("guardian.evidence", Some(&g.evidence), true)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The receipt of one recorded decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentEvent {
    #[schema(value_type = uuid::Uuid)]
    pub id: EventId,
    /// The purpose's id.
    pub purpose: String,
    pub status: Decision,
    pub method: Method,
    pub evidence: Option<String>,
    /// Who recorded it (the token's `sub`).
    pub actor: String,
    pub at: DateTime<Utc>,
    /// The request that recorded it.
    pub request_id: String,
    /// The flag's state this event left it in.
    pub state: ConsentState,
    /// The purpose version in force when it was recorded.
    pub purpose_version: i32,
    /// The guardian who consented for a child.
    #[schema(required = true, value_type = Option<uuid::Uuid>)]
    pub guardian_subject_id: Option<SubjectId>,
}

/// Which of many subjects may be contacted for a purpose.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EligibilityRequest {
    /// The purpose's id.
    pub purpose: String,
    /// Up to 100,000 subject ids; duplicates are answered once.
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 100_000, example = json!(["0190b6a2-7c3e-7d1a-9f00-2b6c1d8e4a10"]))]
    pub subject_ids: Vec<SubjectId>,
}

impl Validate for EligibilityRequest {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.subject_ids.len() > MAX_ELIGIBILITY_IDS {
            errors.push(FieldError::new(
                "subject_ids",
                format!("must hold at most {MAX_ELIGIBILITY_IDS} ids"),
            ));
        }
        if check_controls(&self.purpose, false).is_err() || self.purpose.len() > 200 {
            errors.push(FieldError::new("purpose", "is not a purpose id"));
        }
        errors
    }
}

/// The answer of an eligibility check: every distinct id asked about, in exactly one list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Eligibility {
    pub purpose: String,
    /// Subjects that may be contacted for the purpose now.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub eligible: Vec<SubjectId>,
    /// Subjects that may not.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub not_eligible: Vec<SubjectId>,
    /// Ids that are no subject.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub unknown: Vec<SubjectId>,
}

impl TryFrom<super::state::FlagRow> for Consent {
    type Error = ApiError;

    fn try_from(row: super::state::FlagRow) -> ApiResult<Self> {
        let decision = row.status.as_deref().map(Decision::from_db).transpose()?;
        let (state, eligible) = row.judged()?;
        Ok(Self {
            eligible,
            state,
            status: decision.into(),
            purpose: row.purpose,
            purpose_version: row.purpose_version,
            given_at: row.given_at,
            expires_at: row.expires_at,
            confirmation_expires_at: row.confirmation_expires_at,
            guardian_subject_id: row.guardian_subject_id,
            updated_at: row.updated_at,
            confirmation_token: None,
        })
    }
}

impl TryFrom<super::model::EventRow> for ConsentEvent {
    type Error = ApiError;

    fn try_from(row: super::model::EventRow) -> ApiResult<Self> {
        Ok(Self {
            id: row.id,
            purpose: row.purpose_id,
            status: Decision::from_db(&row.status)?,
            method: Method::from_db(&row.method)?,
            evidence: row.evidence,
            actor: row.actor,
            at: row.at,
            request_id: row.request_id,
            state: event_state(row.state.as_deref(), &row.status)?,
            purpose_version: row.purpose_version,
            guardian_subject_id: row.guardian_subject_id,
        })
    }
}

/// An event's state: recorded since version 3, else read from its decision (a withdrawal then
/// counts as `withdrawn`: whether a grant preceded it was not recorded).
fn event_state(stored: Option<&str>, status: &str) -> ApiResult<ConsentState> {
    match stored {
        Some(state) => ConsentState::from_db(state),
        None if status == Decision::Granted.as_str() => Ok(ConsentState::Given),
        None => Ok(ConsentState::Withdrawn),
    }
}
