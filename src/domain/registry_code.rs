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
}
