//! Request and response bodies of retention: rules, the due list and runs.

use super::model::{RuleRow, RunRow};
use crate::domain::ids::{RetentionRuleId, RetentionRunId, SubjectId};
use crate::domain::retention::RunStatus;
use crate::domain::subject_kind::SubjectKind;
use crate::domain::text::LongText;
use crate::error::{ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The months a rule may keep data after the last activity.
pub const KEEP_MONTHS: std::ops::RangeInclusive<i64> = 1..=1200;

fn check_months(months: i64, errors: &mut Vec<FieldError>) {
    if !KEEP_MONTHS.contains(&months) {
        errors.push(FieldError::new(
            "keep_months",
            "must be a whole number of months from 1 to 1200",
        ));
    }
}

fn check_basis(basis: &str, errors: &mut Vec<FieldError>) {
    if let Err(message) = LongText::parse(basis) {
        errors.push(FieldError::new("legal_basis", message));
    }
}

/// A retention rule as created: how long subjects of one kind are kept after their last
/// activity, and why that long.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "subject_kind": "client", "keep_months": 84,
    "legal_basis": "Accounting Act § 12: source documents are kept for seven years"
}))]
pub struct NewRule {
    pub subject_kind: SubjectKind,
    /// Calendar months after the Europe/Tallinn date of `last_activity_at`: 1 to 1200.
    #[schema(minimum = 1, maximum = 1200)]
    pub keep_months: i64,
    /// Why the data is kept that long (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub legal_basis: String,
}

impl Validate for NewRule {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_months(self.keep_months, &mut errors);
        check_basis(&self.legal_basis, &mut errors);
        errors
    }
}

/// A change of a rule: either field or both.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"keep_months": 60}))]
pub struct RuleChange {
    /// 1 to 1200; a shorter period than the current one also needs the scope `subjects:erase`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1200)]
    pub keep_months: Option<i64>,
    /// 1 to 500 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub legal_basis: Option<String>,
}

impl Validate for RuleChange {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(months) = self.keep_months {
            check_months(months, &mut errors);
        }
        if let Some(basis) = &self.legal_basis {
            check_basis(basis, &mut errors);
        }
        errors
    }
}

/// A retention rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rule {
    #[schema(value_type = uuid::Uuid)]
    pub id: RetentionRuleId,
    pub subject_kind: SubjectKind,
    /// Calendar months kept after the Europe/Tallinn date of the last activity.
    pub keep_months: i32,
    pub legal_basis: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The version, also sent as the `ETag`.
    pub version: i32,
}

impl Rule {
    /// The answer for a stored rule; an unknown stored kind is an internal error.
    pub fn from_row(row: RuleRow) -> ApiResult<Self> {
        Ok(Self {
            id: row.id,
            subject_kind: SubjectKind::from_db(&row.subject_kind)?,
            keep_months: row.keep_months,
            legal_basis: row.legal_basis,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }
}

/// Every rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rules {
    pub items: Vec<Rule>,
}

/// A subject past its keep date.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueSubject {
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    /// The rule of its kind.
    #[schema(value_type = uuid::Uuid)]
    pub rule_id: RetentionRuleId,
    pub last_activity_at: DateTime<Utc>,
    /// The first day it is due: the day after its keep date.
    pub due_on: NaiveDate,
}

/// A retention run: its state and what it has done so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct Run {
    #[schema(value_type = uuid::Uuid)]
    pub id: RetentionRunId,
    pub status: RunStatus,
    /// The day whose due subjects it erases (Europe/Tallinn).
    pub as_of: NaiveDate,
    pub started_at: DateTime<Utc>,
    #[schema(required = true)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Subjects erased so far.
    pub erased: i64,
    /// Subjects past their keep date that an active hold covers, left as they are.
    pub skipped_on_hold: i64,
}

impl Run {
    /// The answer for a stored run; an unknown stored status is an internal error.
    pub fn from_row(row: RunRow) -> ApiResult<Self> {
        Ok(Self {
            id: row.id,
            status: RunStatus::from_db(&row.status)?,
            as_of: row.as_of,
            started_at: row.started_at,
            finished_at: row.finished_at,
            erased: row.erased,
            skipped_on_hold: row.skipped_on_hold,
        })
    }
}

/// The answer to starting a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunStarted {
    #[schema(value_type = uuid::Uuid)]
    pub id: RetentionRunId,
    /// Always `running`.
    pub status: RunStatus,
}
