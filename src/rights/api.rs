//! The bodies of the rights' endpoints: what an erasure, a restriction and its lifting are asked
//! with, and a restriction as answered.

use super::restriction::RestrictionRow;
use crate::domain::ids::PrivacyRequestId;
use crate::domain::restriction::RestrictionGround;
use crate::domain::text::LongText;
use crate::error::{ApiResult, FieldError};
use crate::extract::Validate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An erasure asked for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ErasureRequest {
    /// Why the subject is erased. It is kept after the erasure as its record, so it must name
    /// no personal value (write "privacy request PR-2026-17", not the person's name).
    #[schema(
        example = "erasure asked for by the person (privacy request PR-2026-17)",
        min_length = 1,
        max_length = 500
    )]
    pub reason: String,
    /// The privacy request this answers: an open erasure request about this subject. Once the
    /// erasure is done the request can be closed as `fulfilled`.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub privacy_request_id: Option<PrivacyRequestId>,
}

// `reason` is checked by the erasure itself, together with `privacy_request_id`, so that one
// 400 names both.
impl Validate for ErasureRequest {}

/// A restriction asked for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RestrictionRequest {
    /// The Art. 18(1) ground.
    pub ground: RestrictionGround,
    /// Why, such as the person's message contesting the data.
    #[schema(
        example = "the person contests the address (letter of 2026-11-20)",
        min_length = 1,
        max_length = 500
    )]
    pub reason: String,
    /// The privacy request this answers: an open restriction request about this subject (400
    /// naming the field otherwise; 409 `request-closed`; 409 `request-unverified` when it is not
    /// verified and `REQUIRE_VERIFIED_REQUESTS` is set). The notices it causes carry it.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub privacy_request_id: Option<PrivacyRequestId>,
}

impl Validate for RestrictionRequest {
    fn validate(&self) -> Vec<FieldError> {
        LongText::field_errors("reason", &self.reason)
    }
}

/// A restriction lifted.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RestrictionLift {
    /// Why, such as the outcome of the verification.
    #[schema(
        example = "the address was verified and corrected",
        min_length = 1,
        max_length = 500
    )]
    pub reason: String,
}

impl Validate for RestrictionLift {
    fn validate(&self) -> Vec<FieldError> {
        LongText::field_errors("reason", &self.reason)
    }
}

/// A restriction of processing, in force or lifted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Restriction {
    /// The Art. 18(1) ground.
    pub ground: RestrictionGround,
    /// Why it was restricted.
    pub reason: String,
    /// Since when.
    pub since: DateTime<Utc>,
    /// When it was lifted; `null` while in force.
    pub lifted_at: Option<DateTime<Utc>>,
    /// Why it was lifted.
    pub lift_reason: Option<String>,
}

impl TryFrom<RestrictionRow> for Restriction {
    type Error = crate::error::ApiError;

    fn try_from(row: RestrictionRow) -> ApiResult<Self> {
        Ok(Self {
            ground: RestrictionGround::from_db(&row.ground)?,
            reason: row.reason,
            since: row.since,
            lifted_at: row.lifted_at,
            lift_reason: row.lift_reason,
        })
    }
}
