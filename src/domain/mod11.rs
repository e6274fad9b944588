//! The modulo-11 check digit shared by Estonian personal codes and registry codes.

/// Weights cycle 1, 2, … 9, 1, …; a remainder of 10 retries with the cycle starting at 3; a
/// second 10 gives 0 (EVS 585 for personal codes; the same rule for registry codes).
pub fn check_digit(digits: &[u32]) -> u32 {
    let remainder = |first_weight: u32| {
        digits
            .iter()
            .zip(0u32..)
            .map(|(digit, i)| digit * ((first_weight - 1 + i) % 9 + 1))
            .sum::<u32>()
            % 11
    };
    match remainder(1) {
        10 => match remainder(3) {
            10 => 0,
            second => second,
        },
        first => first,
    }
}

#[cfg(test)]
mod tests {
    use super::check_digit;

    fn digits(text: &str) -> Vec<u32> {
        text.chars().filter_map(|c| c.to_digit(10)).collect()
    }

    #[test]
    fn each_branch_of_the_rule() {
        // Personal codes: first weights; second weights; both give 10.
        assert_eq!(check_digit(&digits("3760503000")), 4);
        assert_eq!(check_digit(&digits("3760503006")), 4);
        assert_eq!(check_digit(&digits("3760503092")), 0);
        // Registry codes.
        assert_eq!(check_digit(&digits("1234567")), 8);
        assert_eq!(check_digit(&digits("7000423")), 5);
    }
}
