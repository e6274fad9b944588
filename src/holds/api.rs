//! The JSON of holds.

use super::model::HoldRow;
use crate::domain::deadline::tallinn_date;
use crate::domain::hold::HoldGround;
use crate::domain::ids::HoldId;
use crate::domain::text::LongText;
use crate::error::{ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A hold to place on a subject's data.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewHold {
    /// The Art. 17(3) ground for keeping the data.
    pub ground: HoldGround,
    /// The law, case or decision that requires it.
    #[schema(
        example = "Raamatupidamise seadus § 12",
        min_length = 1,
        max_length = 500
    )]
    pub legal_reference: String,
    /// When to review whether the hold is still needed (a reminder: the hold stays active until
    /// released); today or later, as a Europe/Tallinn date.
    #[schema(example = "2027-06-30")]
    pub review_on: NaiveDate,
}

impl Validate for NewHold {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = LongText::field_errors("legal_reference", &self.legal_reference);
        if self.review_on < tallinn_date(Utc::now()) {
            errors.push(FieldError::new(
                "review_on",
                "must not be in the past (a Europe/Tallinn date)",
            ));
        }
        errors
    }
}

/// Why a hold is released.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HoldRelease {
    /// For example the end of the proceedings that required it.
    #[schema(
        example = "the court case 2-26-1234 ended",
        min_length = 1,
        max_length = 500
    )]
    pub reason: String,
}

impl Validate for HoldRelease {
    fn validate(&self) -> Vec<FieldError> {
        LongText::field_errors("reason", &self.reason)
    }
}

/// A hold: a legal reason to keep a subject's data, which blocks its erasure while active.
#[derive(Debug, Serialize, ToSchema)]
pub struct Hold {
    /// The hold's id.
    #[schema(value_type = uuid::Uuid)]
    pub id: HoldId,
    /// The Art. 17(3) ground.
    pub ground: HoldGround,
    /// The law, case or decision that requires it.
    pub legal_reference: String,
    /// When to review it.
    pub review_on: NaiveDate,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When it was released; `null` while it is active.
    pub released_at: Option<DateTime<Utc>>,
}

impl TryFrom<HoldRow> for Hold {
    type Error = crate::error::ApiError;

    fn try_from(row: HoldRow) -> ApiResult<Self> {
        Ok(Self {
            id: row.id,
            ground: HoldGround::from_db(&row.ground)?,
            legal_reference: row.legal_reference,
            review_on: row.review_on,
            created_at: row.created_at,
            released_at: row.released_at,
        })
    }
}

/// A subject's holds, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldList {
    /// Every hold, released ones included.
    pub items: Vec<Hold>,
}

/// Every hold of the subject as the API shows them (the export uses it too).
pub fn holds_of(
    conn: &mut diesel::PgConnection,
    subject: crate::domain::ids::SubjectId,
) -> ApiResult<Vec<Hold>> {
    super::model::of_subject(conn, subject)?
        .into_iter()
        .map(Hold::try_from)
        .collect()
}
