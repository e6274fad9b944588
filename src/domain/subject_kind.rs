//! Whether a subject is a client or another person PlanPro deals with.

use super::stored::stored_enum;

stored_enum! {
    /// A client of PlanPro, or a contact person.
    SubjectKind {
        /// A client.
        Client = "client",
        /// A contact person.
        Contact = "contact",
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
