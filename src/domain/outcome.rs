//! The stored vocabulary of closing the loop: what a recipient did about a notice, a request
//! task's state and how a requester's identity was verified.

use super::stored::stored_enum;

stored_enum! {
    /// What a recipient did about a notice it was told to act on (Art. 17(2), 19).
    NoticeOutcome {
        /// Erased, corrected or restricted as told.
        Done = "done",
        /// It held none of the subject's data.
        NotHeld = "not_held",
        /// It refused, with a reason.
        Refused = "refused",
    }
}

stored_enum! {
    /// Where a request's task stands.
    TaskStatus {
        /// Still to do.
        Open = "open",
        /// Done.
        Done = "done",
        /// Dropped, or cancelled by the request's close.
        Cancelled = "cancelled",
    }
}

stored_enum! {
    /// How the requester's identity was verified.
    VerificationMethod {
        /// An electronic identity (ID card, Mobile-ID, Smart-ID through TARA or eeID).
        Eid = "eid",
        /// An identity document shown in person.
        DocumentInPerson = "document_in_person",
        /// A channel already known to belong to the person.
        KnownChannel = "known_channel",
        /// A code sent to the person's known e-mail address.
        EmailCode = "email_code",
    }
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    #[test]
    fn one_spelling_and_others_are_refused() {
        assert_one_spelling(NoticeOutcome::ALL, NoticeOutcome::as_str);
        assert_one_spelling(TaskStatus::ALL, TaskStatus::as_str);
        assert_one_spelling(VerificationMethod::ALL, VerificationMethod::as_str);
        assert!(NoticeOutcome::parse("ignored").is_err());
        assert!(VerificationMethod::from_db("guess").is_err());
    }
}
