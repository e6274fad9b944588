//! Bodies of a privacy request's tasks.

use crate::domain::ids::{NoticeId, PrivacyRequestId, TaskId};
use crate::domain::outcome::TaskStatus;
use crate::domain::text::{LongText, ShortText};
use crate::error::FieldError;
use crate::extract::Validate;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A task to add to a request.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Ask the archive for the paper file", "assignee": "kadri", "due_on": "2026-12-18"
}))]
pub struct NewTask {
    /// What is to be done (1 to 200 characters). Sealed under the subject's key.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Who does it (at most 200 characters).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub assignee: Option<String>,
    /// By when.
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
}

impl Validate for NewTask {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = ShortText::field_errors("title", &self.title);
        if let Some(assignee) = &self.assignee {
            errors.extend(ShortText::field_errors("assignee", assignee));
        }
        errors.extend(day_errors("due_on", self.due_on));
        errors
    }
}

/// A change of a task: only the keys given change; `null` clears `assignee` or `due_on`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "done", "note": "the archive sent the file on 2026-12-15"}))]
pub struct TaskChange {
    /// Who does it (at most 200 characters); `null` for nobody.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub assignee: Option<Option<String>>,
    /// By when; `null` for no date.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
    /// `done` or `cancelled`: closes the task (an open task only).
    #[serde(default)]
    pub status: Option<TaskStatus>,
    /// How it ended (at most 500 characters). Sealed under the subject's key.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Keeps an explicit `null` (`Some(None)`) apart from a missing key (`None`).
fn given<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl Validate for TaskChange {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(Some(assignee)) = &self.assignee {
            errors.extend(ShortText::field_errors("assignee", assignee));
        }
        if let Some(due_on) = self.due_on {
            errors.extend(day_errors("due_on", due_on));
        }
        if self.status == Some(TaskStatus::Open) {
            errors.push(FieldError::new("status", "must be `done` or `cancelled`"));
        }
        if let Some(note) = &self.note {
            errors.extend(LongText::field_errors("note", note));
            if self.status.is_none() {
                errors.push(FieldError::new("note", "is given only with a `status`"));
            }
        }
        if self.assignee.is_none() && self.due_on.is_none() && self.status.is_none() {
            errors.push(FieldError::new(
                "status",
                "nothing to change: give `assignee`, `due_on` or `status`",
            ));
        }
        errors
    }
}

fn day_errors(field: &str, day: Option<NaiveDate>) -> Option<FieldError> {
    day.filter(|d| d.year() < 1900)
        .map(|_| FieldError::new(field, "must not be before 1900-01-01"))
}

/// A task of a privacy request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Task {
    #[schema(value_type = uuid::Uuid)]
    pub id: TaskId,
    #[schema(value_type = uuid::Uuid)]
    pub request_id: PrivacyRequestId,
    /// What is to be done; for a notice's task, named after the notice. Null once the subject
    /// is erased (it was sealed under the subject's key).
    pub title: Option<String>,
    pub assignee: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: TaskStatus,
    /// The notice whose recipient's outcome this task waits for; its outcome closes it.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub notification_id: Option<NoticeId>,
    /// How it ended; null once the subject is erased.
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Who closed it: a staff `sub`, or `recipient` when a notice's outcome did.
    pub completed_by: Option<String>,
    /// The version, also sent as the `ETag`.
    pub version: i32,
}
