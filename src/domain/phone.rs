//! Telephone numbers in the international E.164 form.

/// A phone number as `+` and 8 to 15 digits, the first not 0 (`+3725551234`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Checks the E.164 form; spaces and punctuation inside the number are refused, not guessed at.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let valid = text.strip_prefix('+').is_some_and(|digits| {
            (8..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err("must be in E.164 form: + and 8 to 15 digits, the first not 0".to_owned())
        }
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn e164_numbers_are_accepted() {
        for good in [
            "+3725551234",
            "+37255512",
            "+123456789012345",
            " +3725551234 ",
        ] {
            assert_eq!(Phone::parse(good).unwrap().as_str(), good.trim());
        }
    }

    #[test]
    fn other_forms_are_refused() {
        for bad in [
            "",
            "3725551234",
            "+3725551",
            "+1234567890123456",
            "+0725551234",
            "+372 5551234",
            "+372-5551234",
            "++3725551234",
            "+37255512a4",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(text in any::<String>()) {
            let _ = Phone::parse(&text);
        }

        #[test]
        fn parsing_digit_strings_of_any_length_never_panics(text in "\\+?[0-9\u{0660}-\u{0669}]{0,30}") {
            let accepted = Phone::parse(&text).is_ok();
            let digits = text.strip_prefix('+').unwrap_or_default();
            let e164 = (8..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0');
            prop_assert_eq!(accepted, e164, "{:?}", text);
        }

        #[test]
        fn every_e164_number_is_accepted(number in "\\+[1-9][0-9]{7,14}") {
            prop_assert_eq!(Phone::parse(&number).map(|p| p.as_str().to_owned()), Ok(number));
        }
    }
}
