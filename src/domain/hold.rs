//! The stored vocabulary of holds: the Art. 17(3) grounds on which data must be kept although
//! its erasure is due or asked for.

use super::stored::stored_enum;

stored_enum! {
    /// Why the data must be kept.
    HoldGround {
        /// A legal obligation to keep it, such as accounting law (Art. 17(3)(b)).
        LegalObligation = "legal_obligation",
        /// The establishment, exercise or defence of legal claims (Art. 17(3)(e)).
        LegalClaims = "legal_claims",
        /// A task in the public interest (Art. 17(3)(b) and (d)).
        PublicInterest = "public_interest",
    }
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    #[test]
    fn one_spelling_and_others_are_refused() {
        assert_one_spelling(HoldGround::ALL, HoldGround::as_str);
        assert!(HoldGround::parse("curiosity").is_err());
        assert!(HoldGround::from_db("other").is_err());
    }
}
