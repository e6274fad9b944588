//! The Estonian personal identification code (isikukood), `GYYMMDDSSSC`.

use chrono::{Datelike, NaiveDate};

/// A valid isikukood: 11 digits, a century-and-sex digit, a real birth date and a correct check digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalCode(String);

impl PersonalCode {
    /// Checks the form, the birth date in its century and the check digit.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim();
        if code.len() != 11 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 11 digits".to_owned());
        }
        let digits: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
        let century = match digits[0] {
            1 | 2 => 1800,
            3 | 4 => 1900,
            5 | 6 => 2000,
            7 | 8 => 2100,
            _ => return Err("must start with a digit from 1 to 8".to_owned()),
        };
        let number = |from: usize| digits[from] * 10 + digits[from + 1];
        let year = century + i32::try_from(number(1)).unwrap_or_default();
        if NaiveDate::from_ymd_opt(year, number(3), number(5)).is_none() {
            return Err("does not contain a real date of birth".to_owned());
        }
        if check_digit(&digits[..10]) != digits[10] {
            return Err("has a wrong check digit".to_owned());
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The date of birth the code holds (checked real by [`Self::parse`]).
    pub fn birth_date(&self) -> Option<NaiveDate> {
        let digits: Vec<u32> = self.0.bytes().map(|b| u32::from(b - b'0')).collect();
        let century = 1800 + 100 * (digits.first()?.div_ceil(2) - 1);
        let number = |from: usize| digits[from] * 10 + digits[from + 1];
        let year = i32::try_from(century + number(1)).ok()?;
        NaiveDate::from_ymd_opt(year, number(3), number(5))
    }
}

/// Full years from `birth` to `day`. A 29 February birthday falls on 1 March in other years.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let years = day.year() - birth.year();
    let birthday = NaiveDate::from_ymd_opt(day.year(), birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(day.year(), 3, 1));
    match birthday {
        Some(birthday) if day < birthday => years - 1,
        _ => years,
    }
}

/// The check digit of the first ten digits (EVS 585).
fn check_digit(first_ten: &[u32]) -> u32 {
    super::mod11::check_digit(first_ten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ages_count_full_years_and_a_leap_day_birthday_is_1_march() {
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        // The contract's example: born 2013-03-15, 13 on 2026-03-15, not the day before.
        assert_eq!(age_on(day("2013-03-15"), day("2026-03-14")), 12);
        assert_eq!(age_on(day("2013-03-15"), day("2026-03-15")), 13);
        assert_eq!(age_on(day("2008-02-29"), day("2026-02-28")), 17);
        assert_eq!(age_on(day("2008-02-29"), day("2026-03-01")), 18);
        assert_eq!(age_on(day("2008-02-29"), day("2028-02-29")), 20);
        let code = PersonalCode::parse("49403136526").unwrap();
        assert_eq!(code.birth_date(), Some(day("1994-03-13")));
        let code = PersonalCode::parse("37605030004").unwrap();
        assert_eq!(code.birth_date(), Some(day("1976-05-03")));
    }

    #[test]
    fn each_check_digit_branch_is_accepted() {
        // The first weights give 4; the first give 10 and the second 4; both give 10, so 0.
        for code in ["37605030004", "37605030064", "37605030920", "49403136526"] {
            assert_eq!(PersonalCode::parse(code).unwrap().as_str(), code);
        }
        assert_eq!(check_digit(&[3, 7, 6, 0, 5, 0, 3, 0, 0, 0]), 4);
        assert_eq!(check_digit(&[3, 7, 6, 0, 5, 0, 3, 0, 0, 6]), 4);
        assert_eq!(check_digit(&[3, 7, 6, 0, 5, 0, 3, 0, 9, 2]), 0);
    }

    #[test]
    fn a_wrong_check_digit_is_refused() {
        for code in ["37605030005", "37605030060", "37605030921", "49403136527"] {
            assert_eq!(
                PersonalCode::parse(code).unwrap_err(),
                "has a wrong check digit"
            );
        }
    }

    #[test]
    fn the_form_is_eleven_digits() {
        for code in [
            "",
            "3760503000",
            "376050300041",
            "3760503000a",
            "37605 30004",
        ] {
            assert_eq!(PersonalCode::parse(code).unwrap_err(), "must be 11 digits");
        }
        assert!(PersonalCode::parse(" 37605030004 ").is_ok());
    }

    #[test]
    fn the_first_digit_names_the_century() {
        for code in ["07605030004", "97605030004"] {
            assert_eq!(
                PersonalCode::parse(code).unwrap_err(),
                "must start with a digit from 1 to 8"
            );
        }
    }

    /// A code for the date with a computed check digit, to test dates apart from checksums.
    fn with_check_digit(first_ten: &str) -> String {
        let digits: Vec<u32> = first_ten.bytes().map(|b| u32::from(b - b'0')).collect();
        format!("{first_ten}{}", check_digit(&digits))
    }

    #[test]
    fn the_date_must_exist_in_its_century() {
        // 29 February exists in 1896, 1904, 2000 and 2004, but not in 1800, 1900, 1901 or 2100.
        assert!(PersonalCode::parse(&with_check_digit("5000229000")).is_ok()); // 2000
        assert!(PersonalCode::parse(&with_check_digit("3040229000")).is_ok()); // 1904
        assert!(PersonalCode::parse(&with_check_digit("6040229000")).is_ok()); // 2004
        assert!(PersonalCode::parse(&with_check_digit("1960229000")).is_ok()); // 1896
        for no_such_day in [
            "3000229000", // 1900-02-29
            "7000229000", // 2100-02-29
            "2000229000", // 1800-02-29
            "3010229000", // 1901-02-29
            "4761301000", // month 13
            "4760001000", // month 0
            "4760100000", // day 0
            "4760431000", // 31 April
            "4760132000", // 32 January
        ] {
            assert_eq!(
                PersonalCode::parse(&with_check_digit(no_such_day)).unwrap_err(),
                "does not contain a real date of birth",
                "{no_such_day}"
            );
        }
        for every_century in ["1760503000", "4760503000", "6760503000", "8760503000"] {
            assert!(PersonalCode::parse(&with_check_digit(every_century)).is_ok());
        }
    }

    /// The check digit as the national standard EVS 585 states it, written apart from the
    /// code under test so that the two can disagree.
    fn reference_check_digit(first_ten: &str) -> u32 {
        let digits: Vec<u32> = first_ten.chars().filter_map(|c| c.to_digit(10)).collect();
        for weights in [
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 1],
            [3, 4, 5, 6, 7, 8, 9, 1, 2, 3],
        ] {
            let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
            if sum % 11 < 10 {
                return sum % 11;
            }
        }
        0
    }

    /// The first ten digits of a code for a birth date (1800 to 2199), a sex and a serial number.
    fn first_ten(date: NaiveDate, female: bool, serial: u32) -> String {
        use chrono::Datelike;
        let century_digit = (date.year() - 1800) / 100 * 2 + 1 + i32::from(female);
        format!("{century_digit}{}{serial:03}", date.format("%y%m%d"),)
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        let first = NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2199, 12, 31).unwrap();
        (0..=(last - first).num_days()).prop_map(move |days| first + chrono::Duration::days(days))
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,40}") {
            let _ = PersonalCode::parse(&text);
        }

        #[test]
        fn parsing_any_string_never_panics(text in any::<String>()) {
            let _ = PersonalCode::parse(&text);
        }

        #[test]
        fn parsing_digit_strings_of_any_length_never_panics(digits in "[0-9]{0,40}") {
            let parsed = PersonalCode::parse(&digits);
            prop_assert!(digits.len() == 11 || parsed.is_err());
        }

        #[test]
        fn parsing_digits_of_other_scripts_never_panics_and_refuses_them(
            digits in "[0-9\u{0660}-\u{0669}\u{FF10}-\u{FF19}\u{06F0}-\u{06F9}]{11}"
        ) {
            let parsed = PersonalCode::parse(&digits);
            prop_assert!(digits.is_ascii() || parsed.is_err());
        }

        #[test]
        fn every_real_date_with_its_check_digit_is_accepted(
            date in any_date(), female in any::<bool>(), serial in 0u32..1000
        ) {
            let ten = first_ten(date, female, serial);
            let code = format!("{ten}{}", reference_check_digit(&ten));
            let parsed = PersonalCode::parse(&code);
            prop_assert_eq!(parsed.as_ref().map(PersonalCode::as_str), Ok(code.as_str()));
            prop_assert_eq!(PersonalCode::parse(&format!(" {code}\n")), parsed);
        }

        #[test]
        fn every_other_check_digit_is_refused(
            date in any_date(), female in any::<bool>(), serial in 0u32..1000, wrong in 0u32..10
        ) {
            let ten = first_ten(date, female, serial);
            prop_assume!(wrong != reference_check_digit(&ten));
            prop_assert_eq!(
                PersonalCode::parse(&format!("{ten}{wrong}")),
                Err("has a wrong check digit".to_owned())
            );
        }
    }
}
