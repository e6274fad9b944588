//! The language a person prefers to be addressed in.

use super::stored::stored_enum;

stored_enum! {
    /// Estonian, English or Russian.
    Language {
        /// Estonian.
        Et = "et",
        /// English.
        En = "en",
        /// Russian.
        Ru = "ru",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_others_are_refused() {
        for language in Language::ALL {
            assert_eq!(Language::parse(language.as_str()), Ok(language));
            assert_eq!(
                serde_json::to_value(language).unwrap(),
                serde_json::json!(language.as_str())
            );
        }
        for bad in ["", "EE", "ET", "fi", "est", " et"] {
            assert!(Language::parse(bad).is_err(), "{bad:?}");
        }
    }
}
