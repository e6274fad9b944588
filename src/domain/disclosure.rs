//! What a disclosure and its authorization store: the categories of data and the legal basis.

use super::stored::stored_enum;
use crate::error::ApiResult;
use std::collections::BTreeSet;

stored_enum! {
    /// The kinds of a subject's data that may be disclosed, each a fixed set of fields.
    DataCategory {
        /// `given_name`, `family_name`.
        Identity = "identity",
        /// `email`, `phone`.
        Contact = "contact",
        /// `address`.
        Address = "address",
        /// `personal_code`.
        PersonalCode = "personal_code",
    }
}

stored_enum! {
    /// Why the disclosure is lawful (privacy policy, principle 5).
    LegalBasis {
        /// The subject has permitted it; `consent_evidence` says how we know.
        Consent = "consent",
        /// A law obliges it; `legal_reference` names the provision.
        LegalObligation = "legal_obligation",
    }
}

impl DataCategory {
    /// Stored names into categories; an unknown one is an error like any unknown stored name.
    pub fn from_db_all(names: &[String]) -> ApiResult<BTreeSet<Self>> {
        names.iter().map(|n| Self::from_db(n)).collect()
    }

    /// Categories into their stored names, in canonical order.
    pub fn names(categories: &BTreeSet<Self>) -> Vec<String> {
        categories.iter().map(|c| c.as_str().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    #[test]
    fn one_spelling_and_unknown_stored_names_are_errors() {
        assert_one_spelling(DataCategory::ALL, DataCategory::as_str);
        assert_one_spelling(LegalBasis::ALL, LegalBasis::as_str);
        assert!(DataCategory::from_db_all(&["identity".into(), "shoe_size".into()]).is_err());
    }
}
