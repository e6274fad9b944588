//! What the consents resource stores about a decision: the basis of a purpose, the decision, how
//! it reached PlanPro, and the state of a flag computed from them.

use super::stored::stored_enum;

stored_enum! {
    /// The legal basis of a purpose.
    Basis {
        /// Only with the person's consent.
        OptIn = "opt_in",
        /// Unless the person refused.
        OptOut = "opt_out",
    }
}

stored_enum! {
    /// A recorded decision of the person.
    Decision {
        /// The person agreed.
        Granted = "granted",
        /// The person refused or took their consent back.
        Withdrawn = "withdrawn",
    }
}

stored_enum! {
    /// The current state of a consent flag.
    ConsentStatus {
        /// The person agreed.
        Granted = "granted",
        /// The person refused or took their consent back.
        Withdrawn = "withdrawn",
        /// Nothing was ever recorded: the purpose's basis decides.
        Unset = "unset",
    }
}

stored_enum! {
    /// How the decision reached PlanPro.
    Method {
        /// A form on a web page.
        WebForm = "web_form",
        /// An e-mail from the person.
        Email = "email",
        /// A phone call.
        Phone = "phone",
        /// Face to face.
        InPerson = "in_person",
        /// A paper letter.
        Letter = "letter",
        /// The unsubscribe link of an offer.
        UnsubscribeLink = "unsubscribe_link",
        /// Another system, through this API.
        Api = "api",
        /// The person themselves, logged in to the privacy centre (`PUT /v1/me/consents/...`);
        /// only recorded for the person's own token.
        Portal = "portal",
    }
}

impl Basis {
    /// Whether a person with this decision (or none) may be contacted for a purpose of this basis.
    pub fn eligible(self, decision: Option<Decision>) -> bool {
        match (self, decision) {
            (_, Some(Decision::Granted)) | (Basis::OptOut, None) => true,
            (_, Some(Decision::Withdrawn)) | (Basis::OptIn, None) => false,
        }
    }
}

impl From<Option<Decision>> for ConsentStatus {
    fn from(decision: Option<Decision>) -> Self {
        match decision {
            Some(Decision::Granted) => Self::Granted,
            Some(Decision::Withdrawn) => Self::Withdrawn,
            None => Self::Unset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    #[test]
    fn json_names_and_schema_names_are_the_stored_names() {
        assert_one_spelling(Method::ALL, Method::as_str);
        assert_one_spelling(ConsentStatus::ALL, ConsentStatus::as_str);
        assert_one_spelling(Basis::ALL, Basis::as_str);
        assert_one_spelling(Decision::ALL, Decision::as_str);
    }

    #[test]
    fn eligibility_follows_the_basis_until_a_decision_is_recorded() {
        assert!(Basis::OptOut.eligible(None));
        assert!(!Basis::OptIn.eligible(None));
        for basis in Basis::ALL {
            assert!(basis.eligible(Some(Decision::Granted)));
            assert!(!basis.eligible(Some(Decision::Withdrawn)));
        }
    }

    #[test]
    fn stored_names_round_trip_and_unknown_ones_are_errors() {
        for method in Method::ALL {
            assert_eq!(Method::from_db(method.as_str()).ok(), Some(method));
        }
        assert!(Decision::from_db("unset").is_err());
        assert!(Method::parse("fax").is_err());
    }
}
