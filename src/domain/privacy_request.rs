//! The stored vocabulary of privacy requests: what a person asked for, how the request reached
//! PlanPro, where it stands and how it ended.

use super::stored::stored_enum;

stored_enum! {
    /// What the person asked for.
    RequestKind {
        /// To see their data (Art. 15).
        Access = "access",
        /// To have it corrected (Art. 16).
        Rectification = "rectification",
        /// To have it erased (Art. 17).
        Erasure = "erasure",
        /// To have its processing restricted (Art. 18).
        Restriction = "restriction",
        /// To object to processing, such as marketing (Art. 21).
        Objection = "objection",
    }
}

stored_enum! {
    /// How the request reached PlanPro.
    RequestChannel {
        /// An e-mail, such as to info@planpro.ee.
        Email = "email",
        /// The PlanPro portal.
        Portal = "portal",
        /// A letter.
        Letter = "letter",
        /// A telephone call.
        Phone = "phone",
        /// In person.
        InPerson = "in_person",
    }
}

stored_enum! {
    /// Whether the request still waits for its answer.
    RequestStatus {
        /// Not yet answered.
        Open = "open",
        /// Answered, with an outcome.
        Closed = "closed",
    }
}

stored_enum! {
    /// How a request ended.
    RequestOutcome {
        /// Done as asked (an erasure request only once the subject is erased).
        Fulfilled = "fulfilled",
        /// Refused, with the reason told to the person.
        Refused = "refused",
        /// Withdrawn by the person.
        Withdrawn = "withdrawn",
    }
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    #[test]
    fn one_spelling_and_others_are_refused() {
        assert_one_spelling(RequestKind::ALL, RequestKind::as_str);
        assert_one_spelling(RequestChannel::ALL, RequestChannel::as_str);
        assert_one_spelling(RequestStatus::ALL, RequestStatus::as_str);
        assert_one_spelling(RequestOutcome::ALL, RequestOutcome::as_str);
        assert!(RequestKind::parse("complaint").is_err());
        assert!(RequestChannel::from_db("fax").is_err());
    }
}
