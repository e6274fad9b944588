//! The Estonian registry code (registrikood) of a legal person.

use std::fmt;

/// An 8-digit Estonian registry code whose check digit is right.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryCode(String);

impl RegistryCode {
    /// Parses a registry code: exactly 8 ASCII digits, the last being the check digit of the
    /// first seven (the same modulo-11 scheme as the isikukood).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be exactly 8 digits".to_owned());
        }
        let digits: Vec<u32> = text.bytes().map(|b| u32::from(b - b'0')).collect();
        if check_digit(&digits[..7]) != digits[7] {
            return Err("has a wrong check digit".to_owned());
        }
        Ok(Self(text.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as owned text.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RegistryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The check digit of the first seven digits.
fn check_digit(first_seven: &[u32]) -> u32 {
    super::mod11::check_digit(first_seven)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_valid_codes_parse() {
        for code in ["12345678", "70004235"] {
            assert_eq!(RegistryCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn first_weights_give_the_digit_when_below_ten() {
        // 1·1 + 2·2 + … + 7·7 = 140 ≡ 8 (mod 11)
        assert!(RegistryCode::parse("12345678").is_ok());
        assert!(RegistryCode::parse("12345670").is_err());
    }

    #[test]
    fn second_weights_apply_when_the_first_remainder_is_ten() {
        // 1000035: first weights 54 ≡ 10; second weights 72 ≡ 6.
        assert!(RegistryCode::parse("10000356").is_ok());
        assert!(RegistryCode::parse("10000350").is_err());
    }

    #[test]
    fn the_digit_is_zero_when_both_remainders_are_ten() {
        // 1001036: first weights 65 ≡ 10; second weights 87 ≡ 10.
        assert!(RegistryCode::parse("10010360").is_ok());
        assert!(RegistryCode::parse("10010361").is_err());
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for bad in [
            "",
            "1234567",
            "123456789",
            "1234567a",
            " 12345678",
            "1234-678",
            "１２３４５６７８",
        ] {
            assert!(RegistryCode::parse(bad).is_err(), "{bad}");
        }
    }

    /// The check digit as the Commercial Register states it (weights 1 to 7, then 3 to 9, then
    /// 0), written apart from the code under test.
    fn reference_check_digit(first_seven: &str) -> u32 {
        let digits: Vec<u32> = first_seven.chars().filter_map(|c| c.to_digit(10)).collect();
        for first_weight in [1, 3] {
            let sum: u32 = digits.iter().zip(first_weight..).map(|(d, w)| d * w).sum();
            if sum % 11 < 10 {
                return sum % 11;
            }
        }
        0
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,40}") {
            let _ = RegistryCode::parse(&text);
        }

        #[test]
        fn parsing_any_string_never_panics(text in any::<String>()) {
            let _ = RegistryCode::parse(&text);
        }

        #[test]
        fn parsing_digit_strings_of_any_length_never_panics(digits in "[0-9]{0,40}") {
            let parsed = RegistryCode::parse(&digits);
            prop_assert!(digits.len() == 8 || parsed.is_err());
        }

        #[test]
        fn parsing_digits_of_other_scripts_never_panics_and_refuses_them(
            digits in "[0-9\u{0660}-\u{0669}\u{FF10}-\u{FF19}\u{06F0}-\u{06F9}]{8}"
        ) {
            let parsed = RegistryCode::parse(&digits);
            prop_assert!(digits.is_ascii() || parsed.is_err());
        }

        #[test]
        fn every_code_with_its_check_digit_is_accepted(first_seven in "[0-9]{7}") {
            let code = format!("{first_seven}{}", reference_check_digit(&first_seven));
            prop_assert_eq!(
                RegistryCode::parse(&code).map(RegistryCode::into_string),
                Ok(code)
            );
        }

        #[test]
        fn every_other_check_digit_is_refused(first_seven in "[0-9]{7}", wrong in 0u32..10) {
            prop_assume!(wrong != reference_check_digit(&first_seven));
            prop_assert_eq!(
                RegistryCode::parse(&format!("{first_seven}{wrong}")),
                Err("has a wrong check digit".to_owned())
            );
        }
    }
}
