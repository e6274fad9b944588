//! Where a subject's data came from (the privacy policy's principle 9).

use super::stored::stored_enum;

stored_enum! {
    /// The person themself, a public register, or a third party (which must attest that it
    /// collected the data lawfully).
    SourceType {
        /// The person themself.
        DataSubject = "data_subject",
        /// A public register.
        PublicRegistry = "public_registry",
        /// A third party.
        ThirdParty = "third_party",
    }
}

impl SourceType {
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
