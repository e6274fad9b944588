//! Request and response bodies of notices and webhooks.

use super::model::NoticeRow;
use super::outcomes::Reasons;
use super::webhooks::WebhookRow;
use crate::domain::disclosure::DataCategory;
use crate::domain::ids::{NoticeId, PrivacyRequestId, RecipientId, SubjectId, WebhookId};
use crate::domain::notice::{NoticeStatus, NoticeType, WebhookStatus};
use crate::domain::outcome::NoticeOutcome;
use crate::domain::text::check_controls;
use crate::error::{ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest acknowledgement note.
const MAX_NOTE_CHARS: usize = 1000;
/// The longest webhook URL.
pub const MAX_URL_CHARS: usize = 2000;

/// A notice to a recipient about a change to a subject's data (GDPR Art. 19).
#[derive(Debug, Serialize, ToSchema)]
pub struct Notice {
    /// Its id, also the `webhook-id` of every delivery attempt.
    #[schema(value_type = uuid::Uuid)]
    pub id: NoticeId,
    /// Who is told.
    #[schema(value_type = uuid::Uuid)]
    pub recipient_id: RecipientId,
    /// Whose data changed.
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: NoticeType,
    /// For `subject.rectified`: the changed categories this recipient had received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<DataCategory>>,
    /// For `consent.withdrawn`: the purpose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Where it stands.
    pub status: NoticeStatus,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When the last attempt started.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status the receiver answered the last attempt with; null when it gave none.
    pub last_status: Option<i32>,
    /// Why the last attempt got no answer (such as `timeout`, `connection failed`,
    /// `address refused`); null after an answer.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending notices only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was queued: in the transaction of the change.
    pub created_at: DateTime<Utc>,
    /// When the receiver accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When staff recorded delivering it another way, who did, and how.
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub note: Option<String>,
    /// The privacy request whose change caused it.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub privacy_request_id: Option<PrivacyRequestId>,
    /// For `subject.erased`, `subject.rectified` and `subject.restricted`: the day by which the
    /// recipient should report its outcome, the `NOTICE_OUTCOME_WORKING_DAYS`-th Estonian working
    /// day after the Europe/Tallinn date it was queued on; null for other types.
    pub outcome_due_on: Option<NaiveDate>,
    /// What the recipient did; null until reported.
    pub outcome: Option<NoticeOutcome>,
    /// Why (always given for `refused`).
    pub outcome_reason: Option<String>,
    /// When the recipient completed it.
    pub completed_at: Option<DateTime<Utc>>,
    /// `recipient`, or the `sub` of the staff member who recorded or replaced it.
    pub outcome_recorded_by: Option<String>,
    /// Why staff recorded or replaced the outcome.
    pub override_reason: Option<String>,
}

impl Notice {
    /// The API's view of a stored notice, with its reasons opened
    /// ([`super::outcomes::reasons`]).
    pub fn from_row(row: NoticeRow, reasons: Reasons) -> ApiResult<Self> {
        let categories = match &row.categories {
            Some(names) => Some(DataCategory::from_db_all(names)?.into_iter().collect()),
            None => None,
        };
        Ok(Self {
            id: row.id,
            recipient_id: row.recipient_id,
            subject_id: row.subject_id,
            kind: NoticeType::from_db(&row.kind)?,
            categories,
            purpose: row.purpose,
            status: NoticeStatus::from_db(&row.status)?,
            attempts: row.attempts,
            last_attempt_at: row.last_attempt_at,
            last_status: row.last_status,
            last_error: row.last_error,
            next_attempt_at: row.next_attempt_at,
            created_at: row.created_at,
            delivered_at: row.delivered_at,
            acknowledged_at: row.acknowledged_at,
            acknowledged_by: row.acknowledged_by,
            note: row.note,
            privacy_request_id: row.privacy_request_id,
            outcome_due_on: row.outcome_due_on,
            outcome: row
                .outcome
                .as_deref()
                .map(NoticeOutcome::from_db)
                .transpose()?,
            outcome_reason: reasons.outcome,
            completed_at: row.completed_at,
            outcome_recorded_by: row.outcome_recorded_by,
            override_reason: reasons.override_reason,
        })
    }
}

/// How staff delivered a `manual` or `dead` notice.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Acknowledgement {
    /// For example "told by registered letter 2026-12-02".
    #[schema(
        example = "told by e-mail to privacy@partner.ee on 2026-12-02",
        max_length = 1000
    )]
    pub note: String,
}

impl Validate for Acknowledgement {
    fn validate(&self) -> Vec<FieldError> {
        let note = self.note.trim();
        let problem = if note.is_empty() {
            Some("must not be empty".to_owned())
        } else if let Err(m) = check_controls(note, true) {
            Some(m)
        } else if note.chars().count() > MAX_NOTE_CHARS {
            Some(format!("must be at most {MAX_NOTE_CHARS} characters"))
        } else {
            None
        };
        problem
            .map(|m| vec![FieldError::new("note", m)])
            .unwrap_or_default()
    }
}

/// A webhook to register.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWebhook {
    /// Where notices are posted: `https`, reachable on a public address.
    #[schema(example = "https://partner.example/planpro/notices", max_length = 2000)]
    pub url: String,
}

impl Validate for NewWebhook {
    fn validate(&self) -> Vec<FieldError> {
        // The address rule needs the configuration and a lookup: the handler applies it.
        if self.url.chars().count() > MAX_URL_CHARS {
            return vec![FieldError::new(
                "url",
                format!("must be at most {MAX_URL_CHARS} characters"),
            )];
        }
        Vec::new()
    }
}

/// A recipient's webhook, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    #[schema(value_type = uuid::Uuid)]
    pub id: WebhookId,
    #[schema(value_type = uuid::Uuid)]
    pub recipient_id: RecipientId,
    pub url: String,
    pub status: WebhookStatus,
    pub created_at: DateTime<Utc>,
    /// Until when the secret replaced by the last rotation still signs beside the new one.
    pub previous_secret_until: Option<DateTime<Utc>>,
}

impl Webhook {
    /// The API's view of a stored webhook.
    pub fn from_row(row: &WebhookRow) -> ApiResult<Self> {
        Ok(Self {
            id: row.id,
            recipient_id: row.recipient_id,
            url: row.url.clone(),
            status: WebhookStatus::from_db(&row.status)?,
            created_at: row.created_at,
            previous_secret_until: row.previous_until,
        })
    }
}

/// A webhook with its signing secret: only in the answer that made the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[schema(value_type = uuid::Uuid)]
    pub id: WebhookId,
    #[schema(value_type = uuid::Uuid)]
    pub recipient_id: RecipientId,
    pub url: String,
    pub status: WebhookStatus,
    pub created_at: DateTime<Utc>,
    /// Until when the secret replaced by the last rotation still signs beside the new one.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// `whsec_` and the base64 of 32 random bytes (Standard Webhooks). Shown only here: keep it.
    /// Null in an idempotent replay of the registration: a one-time secret is never repeated.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
}

impl WebhookWithSecret {
    /// A stored webhook with the secret just made for it.
    pub fn new(row: &WebhookRow, secret: Option<String>) -> ApiResult<Self> {
        let webhook = Webhook::from_row(row)?;
        Ok(Self {
            id: webhook.id,
            recipient_id: webhook.recipient_id,
            url: webhook.url,
            status: webhook.status,
            created_at: webhook.created_at,
            previous_secret_until: webhook.previous_secret_until,
            secret,
        })
    }
}

/// A recipient's webhooks.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

/// The API's view of stored notices, their reasons opened.
pub fn views(conn: &mut diesel::PgConnection, rows: Vec<NoticeRow>) -> ApiResult<Vec<Notice>> {
    let mut opened = super::outcomes::reasons(conn, &rows)?;
    rows.into_iter()
        .map(|row| {
            let reasons = opened.remove(&row.id).unwrap_or_default();
            Notice::from_row(row, reasons)
        })
        .collect()
}

/// The API's view of one stored notice.
pub fn view(conn: &mut diesel::PgConnection, row: NoticeRow) -> ApiResult<Notice> {
    views(conn, vec![row])?
        .pop()
        .ok_or_else(|| crate::error::ApiError::internal("a notice's view is missing"))
}
