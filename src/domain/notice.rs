//! What a notice to a recipient (Art. 19) and a webhook store: the event, the notice's state and
//! the endpoint's state. The event names hold a dot, which the stored-enum macro cannot spell, so
//! `NoticeType` keeps its one spelling by hand (its test checks it like the macro's do).

use super::stored::stored_enum;
use crate::error::{ApiError, ApiResult};

/// What happened to the subject's data that a recipient must be told.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub enum NoticeType {
    /// Fields of the named `categories` were corrected.
    #[serde(rename = "subject.rectified")]
    Rectified,
    /// The subject's data was erased.
    #[serde(rename = "subject.erased")]
    Erased,
    /// Processing of the subject's data was restricted.
    #[serde(rename = "subject.restricted")]
    Restricted,
    /// A restriction of processing was lifted.
    #[serde(rename = "subject.restriction_lifted")]
    RestrictionLifted,
    /// The subject withdrew consent to `purpose`.
    #[serde(rename = "consent.withdrawn")]
    ConsentWithdrawn,
}

impl NoticeType {
    /// Every event.
    pub const ALL: [Self; 5] = [
        Self::Rectified,
        Self::Erased,
        Self::Restricted,
        Self::RestrictionLifted,
        Self::ConsentWithdrawn,
    ];

    /// The stored (and JSON) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rectified => "subject.rectified",
            Self::Erased => "subject.erased",
            Self::Restricted => "subject.restricted",
            Self::RestrictionLifted => "subject.restriction_lifted",
            Self::ConsentWithdrawn => "consent.withdrawn",
        }
    }

    /// The event of a stored name; an unknown one is a bug (logged by type only).
    pub fn from_db(text: &str) -> ApiResult<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| ApiError::internal("a stored NoticeType is none of its names"))
    }
}

stored_enum! {
    /// Where a notice stands.
    NoticeStatus {
        /// Waiting for its (next) delivery attempt.
        Pending = "pending",
        /// The recipient's endpoint accepted it (a 2xx answer).
        Delivered = "delivered",
        /// Every attempt failed; staff may retry it or deliver it another way.
        Dead = "dead",
        /// The recipient has no active webhook: staff must tell it another way.
        Manual = "manual",
        /// Staff recorded that they delivered it another way.
        Acknowledged = "acknowledged",
    }
}

stored_enum! {
    /// Whether a webhook receives notices.
    WebhookStatus {
        /// Notices are delivered to it.
        Active = "active",
        /// Its receiver answered 410 Gone: nothing more is sent to it.
        Disabled = "disabled",
    }
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    #[test]
    fn one_spelling_and_unknown_stored_names_are_errors() {
        assert_one_spelling(NoticeType::ALL, NoticeType::as_str);
        assert_one_spelling(NoticeStatus::ALL, NoticeStatus::as_str);
        assert_one_spelling(WebhookStatus::ALL, WebhookStatus::as_str);
        assert!(NoticeType::from_db("subject.sold").is_err());
        assert!(NoticeStatus::from_db("lost").is_err());
    }
}
