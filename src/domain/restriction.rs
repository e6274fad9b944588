//! The stored vocabulary of restriction of processing: the four grounds of Art. 18(1).

use super::stored::stored_enum;

stored_enum! {
    /// Why processing is restricted.
    RestrictionGround {
        /// The person contests the accuracy of the data, while PlanPro verifies it (Art. 18(1)(a)).
        AccuracyContested = "accuracy_contested",
        /// The processing is unlawful and the person asks for restriction instead of erasure (Art. 18(1)(b)).
        UnlawfulProcessing = "unlawful_processing",
        /// PlanPro no longer needs the data, but the person needs it for legal claims (Art. 18(1)(c)).
        LegalClaims = "legal_claims",
        /// The person objected, pending the check of PlanPro's legitimate grounds (Art. 18(1)(d)).
        ObjectionPending = "objection_pending",
    }
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    #[test]
    fn one_spelling_and_others_are_refused() {
        assert_one_spelling(RestrictionGround::ALL, RestrictionGround::as_str);
        assert!(RestrictionGround::parse("boredom").is_err());
        assert!(RestrictionGround::from_db("other").is_err());
    }
}
