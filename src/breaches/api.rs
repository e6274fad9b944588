//! Bodies of the breach register (Art. 33-34).

use crate::domain::disclosure::DataCategory;
use crate::domain::ids::{BreachId, RecipientId};
use crate::domain::stored::stored_enum;
use crate::domain::text::{LongText, ShortText, Text};
use crate::error::FieldError;
use crate::extract::Validate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

stored_enum! {
    /// What the breach affected (Art. 4(12); the CIA triad).
    Nature {
        Confidentiality = "confidentiality",
        Integrity = "integrity",
        Availability = "availability",
    }
}

stored_enum! {
    /// The risk to persons' rights and freedoms (Art. 33(1), 34(1)).
    Risk {
        None = "none",
        Risk = "risk",
        High = "high",
    }
}

stored_enum! {
    /// Where a breach's affected persons were found.
    ScopeSource {
        Disclosures = "disclosures",
        AccessLog = "access_log",
    }
}

/// The time a breach spans.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// A breach as reported.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "aware_at": "2026-03-28T22:30:00Z", "nature": ["confidentiality"],
    "description": "a partner's export was sent to a wrong address",
    "window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-28T00:00:00Z"},
    "data_categories": ["identity", "contact"]
}))]
pub struct NewBreach {
    /// When PlanPro became aware; not in the future.
    pub aware_at: DateTime<Utc>,
    pub nature: Vec<Nature>,
    /// What happened, without personal data (at most 5000 characters); sealed at rest.
    #[schema(max_length = 5000)]
    pub description: String,
    pub window: Window,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub recipient_id: Option<RecipientId>,
    /// The actor (token `sub`) whose access is in question.
    #[serde(default)]
    pub actor: Option<String>,
    pub data_categories: Vec<DataCategory>,
}

fn window_errors(e: &mut Vec<FieldError>, window: &Window) {
    if window.from > window.to {
        e.push(FieldError::new(
            "window.to",
            "must not be before `window.from`",
        ));
    }
}

impl Validate for NewBreach {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.aware_at > Utc::now() {
            e.push(FieldError::new("aware_at", "must not be in the future"));
        }
        if self.nature.is_empty() {
            e.push(FieldError::new("nature", "must hold at least one"));
        }
        if self.data_categories.is_empty() {
            e.push(FieldError::new("data_categories", "must hold at least one"));
        }
        e.extend(Text::<5000>::field_errors("description", &self.description));
        if let Some(actor) = &self.actor {
            e.extend(ShortText::field_errors("actor", actor));
        }
        window_errors(&mut e, &self.window);
        e
    }
}

/// A change of a breach (`If-Match` required).
#[derive(Debug, Deserialize, ToSchema)]
pub struct BreachPatch {
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[serde(default)]
    pub window: Option<Window>,
    #[serde(default)]
    pub data_categories: Option<Vec<DataCategory>>,
    /// Only `closed`; an unassessed breach cannot be closed (409 `assessment-missing`).
    #[serde(default)]
    pub status: Option<String>,
}

impl Validate for BreachPatch {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if let Some(d) = &self.description {
            e.extend(Text::<5000>::field_errors("description", d));
        }
        if let Some(w) = &self.window {
            window_errors(&mut e, w);
        }
        if self.data_categories.as_ref().is_some_and(Vec::is_empty) {
            e.push(FieldError::new("data_categories", "must hold at least one"));
        }
        if self.status.as_deref().is_some_and(|s| s != "closed") {
            e.push(FieldError::new("status", "must be `closed`"));
        }
        e
    }
}

/// The risk assessment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Assessment {
    pub risk: Risk,
    #[schema(max_length = 500)]
    pub reasoning: String,
}

impl Validate for Assessment {
    fn validate(&self) -> Vec<FieldError> {
        LongText::field_errors("reasoning", &self.reasoning)
    }
}

/// The notification of the supervisory authority (Art. 33).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthorityNotification {
    pub notified_at: DateTime<Utc>,
    #[schema(max_length = 200)]
    pub reference: String,
    /// Required when notified after `notify_authority_by` (Art. 33(1)).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub delay_reasons: Option<String>,
}

impl Validate for AuthorityNotification {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = ShortText::field_errors("reference", &self.reference);
        if let Some(d) = &self.delay_reasons {
            e.extend(LongText::field_errors("delay_reasons", d));
        }
        if self.notified_at > Utc::now() {
            e.push(FieldError::new("notified_at", "must not be in the future"));
        }
        e
    }
}

stored_enum! {
    /// Why persons need not be told (Art. 34(3)).
    Exemption {
        #[serde(rename = "34(3)(a)")]
        A = "34(3)(a)",
        #[serde(rename = "34(3)(b)")]
        B = "34(3)(b)",
        #[serde(rename = "34(3)(c)")]
        C = "34(3)(c)",
    }
}

/// The communication to the persons affected (Art. 34).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubjectCommunication {
    pub communicated_at: DateTime<Utc>,
    #[schema(max_length = 200)]
    pub method: String,
    #[serde(default)]
    pub exemption: Option<Exemption>,
}

impl Validate for SubjectCommunication {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = ShortText::field_errors("method", &self.method);
        if self.communicated_at > Utc::now() {
            e.push(FieldError::new(
                "communicated_at",
                "must not be in the future",
            ));
        }
        e
    }
}

/// What scoping reads.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScopeRequest {
    /// Default: both.
    #[serde(default)]
    pub sources: Option<Vec<ScopeSource>>,
}

impl Validate for ScopeRequest {
    fn validate(&self) -> Vec<FieldError> {
        if self.sources.as_ref().is_some_and(Vec::is_empty) {
            return vec![FieldError::new("sources", "must hold at least one")];
        }
        Vec::new()
    }
}

/// The result of scoping.
#[derive(Debug, Serialize, ToSchema)]
pub struct Scoped {
    pub affected_count: i32,
    pub computed_at: DateTime<Utc>,
    pub sources: Vec<ScopeSource>,
}

/// A person a breach touched (ids only; kept after erasure).
#[derive(Debug, Serialize, ToSchema, diesel::QueryableByName)]
pub struct Affected {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub subject_id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub via: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub erased: bool,
}

/// A breach in the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct Breach {
    #[schema(value_type = uuid::Uuid)]
    pub id: BreachId,
    /// `open` or `closed`.
    pub status: String,
    pub aware_at: DateTime<Utc>,
    pub nature: Vec<Nature>,
    pub description: String,
    pub window: Window,
    #[schema(required = true, value_type = Option<uuid::Uuid>)]
    pub recipient_id: Option<RecipientId>,
    #[schema(required = true)]
    pub actor: Option<String>,
    pub data_categories: Vec<DataCategory>,
    /// `aware_at` + 72 clock hours (Art. 33(1)).
    pub notify_authority_by: DateTime<Utc>,
    #[schema(required = true)]
    pub assessment: Option<Assessment>,
    #[schema(required = true)]
    pub authority_notification: Option<AuthorityNotification>,
    #[schema(required = true)]
    pub subject_communication: Option<SubjectCommunication>,
    /// Null until scoped.
    #[schema(required = true)]
    pub affected_count: Option<i32>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(required = true)]
    pub closed_at: Option<DateTime<Utc>>,
}
