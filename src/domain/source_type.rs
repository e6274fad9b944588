//! Where a subject's data came from (the privacy policy's principle 9).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The person themself, a public register, or a third party (which must attest that it
/// collected the data lawfully).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceType {
    DataSubject,
    PublicRegistry,
    ThirdParty,
}

impl SourceType {
    /// Every source type.
    pub const ALL: [SourceType; 3] = [
        SourceType::DataSubject,
        SourceType::PublicRegistry,
        SourceType::ThirdParty,
    ];

    /// The source type with this name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| "must be one of data_subject, public_registry, third_party".to_owned())
    }

    /// The name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::DataSubject => "data_subject",
            SourceType::PublicRegistry => "public_registry",
            SourceType::ThirdParty => "third_party",
        }
    }

    /// Data from a third party needs its provider's attestation of lawful collection.
    pub fn needs_attestation(self) -> bool {
        self == SourceType::ThirdParty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_refused() {
        for source in SourceType::ALL {
            assert_eq!(SourceType::parse(source.as_str()), Ok(source));
            assert_eq!(
                serde_json::to_value(source).unwrap(),
                serde_json::json!(source.as_str())
            );
        }
        for bad in ["", "third-party", "ThirdParty", "partner"] {
            assert!(SourceType::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_third_parties_must_attest() {
        assert!(SourceType::ThirdParty.needs_attestation());
        assert!(!SourceType::DataSubject.needs_attestation());
        assert!(!SourceType::PublicRegistry.needs_attestation());
    }
}
