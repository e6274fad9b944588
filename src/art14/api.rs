//! The JSON of Art. 14 information: a person's status, information notices, exemptions and the
//! due list.

pub use super::rule::Art14State;
use crate::domain::ids::{InformationNoticeId, SubjectId};
use crate::domain::source_type::SourceType;
use crate::domain::stored::stored_enum;
use crate::domain::text::ShortText;
use crate::error::FieldError;
use crate::extract::Validate;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

stored_enum! {
    /// How the person was told.
    NoticeMethod {
        Email = "email",
        Letter = "letter",
        Portal = "portal",
        InPerson = "in_person",
        Phone = "phone",
    }
}

stored_enum! {
    /// Why the person need not be told (Art. 14(5)): (a) they already have the information,
    /// (b) telling them is impossible or would take a disproportionate effort, (c) a law
    /// provides for the collection, (d) professional secrecy.
    ExemptionGround {
        #[serde(rename = "14(5)(a)")]
        A = "14(5)(a)",
        #[serde(rename = "14(5)(b)")]
        B = "14(5)(b)",
        #[serde(rename = "14(5)(c)")]
        C = "14(5)(c)",
        #[serde(rename = "14(5)(d)")]
        D = "14(5)(d)",
    }
}

/// The Art. 14 information of a person whose data did not come from them (`source.type` other
/// than `data_subject`); `null` for the others.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Art14 {
    /// The Tallinn date of the collection (else of the record's creation) + 1 month, moved to the
    /// next working day; or, when earlier, the Tallinn date of the first disclosure.
    #[schema(example = "2026-12-03")]
    pub due_on: NaiveDate,
    pub status: Art14State,
    /// When the person was told (the latest notice); `null` until then.
    pub informed_at: Option<DateTime<Utc>>,
    pub method: Option<NoticeMethod>,
    /// The version of the notice given.
    pub notice_version: Option<String>,
    /// The exemption recorded, if any.
    pub exemption: Option<Art14Exemption>,
}

/// An Art. 14(5) exemption as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Art14Exemption {
    pub ground: ExemptionGround,
    /// Where the ground is documented.
    pub reference: Option<String>,
}

/// An information notice given to the person (Art. 14).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"informed_at": "2026-12-01T10:00:00Z", "method": "letter",
    "notice_version": "privacy notice 2026-11"}))]
pub struct NewInformationNotice {
    /// When the person was told; not in the future.
    pub informed_at: DateTime<Utc>,
    pub method: NoticeMethod,
    /// Which notice was given (1 to 200 characters, no hidden text).
    #[schema(example = "privacy notice 2026-11", min_length = 1, max_length = 200)]
    pub notice_version: String,
}

impl Validate for NewInformationNotice {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = ShortText::field_errors("notice_version", &self.notice_version);
        if self.informed_at > Utc::now() {
            errors.push(FieldError::new("informed_at", "must not be in the future"));
        }
        errors
    }
}

/// An information notice as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct InformationNotice {
    #[schema(value_type = uuid::Uuid)]
    pub id: InformationNoticeId,
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    pub informed_at: DateTime<Utc>,
    pub method: NoticeMethod,
    pub notice_version: String,
    /// Who recorded it (the token's `sub`).
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// An exemption to record.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"ground": "14(5)(b)", "reference": "effort assessment 2026-4"}))]
pub struct NewExemption {
    pub ground: ExemptionGround,
    /// Where the ground is documented (1 to 200 characters, no hidden text).
    #[schema(example = "effort assessment 2026-4", min_length = 1, max_length = 200)]
    pub reference: String,
}

impl Validate for NewExemption {
    fn validate(&self) -> Vec<FieldError> {
        ShortText::field_errors("reference", &self.reference)
    }
}

/// A person not yet told whose due date has passed (or passes before the day asked about).
#[derive(Debug, Serialize, ToSchema)]
pub struct Art14Due {
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    pub due_on: NaiveDate,
    pub source_type: SourceType,
}
