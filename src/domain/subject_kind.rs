//! Whether a subject is a client or another person PlanPro deals with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A client of PlanPro, or a contact person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Client,
    Contact,
}

impl SubjectKind {
    /// Every kind.
    pub const ALL: [SubjectKind; 2] = [SubjectKind::Client, SubjectKind::Contact];

    /// The kind with this name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| "must be one of client, contact".to_owned())
    }

    /// The name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Client => "client",
            SubjectKind::Contact => "contact",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_refused() {
        for kind in SubjectKind::ALL {
            assert_eq!(SubjectKind::parse(kind.as_str()), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        for bad in ["", "Client", "customer", "contacts"] {
            assert!(SubjectKind::parse(bad).is_err(), "{bad:?}");
        }
    }
}
