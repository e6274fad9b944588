//! The stored vocabulary of privacy requests: what a person asked for, how the request reached
//! PlanPro, where it stands and how it ended. One spelling each, used on the wire and in storage.

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
