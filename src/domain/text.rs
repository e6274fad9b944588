//! Free text of bounded length: names and the few other text fields a record holds.

/// A person's given or family name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// The longest name accepted.
    pub const MAX_CHARS: usize = 200;

    /// Trims and checks the name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        check_controls(text, false)?;
        check_length(text, Self::MAX_CHARS)?;
        Ok(Self(text.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an owned string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Other text (an address line, a source's reference, a reason): trimmed, 1 to `MAX`
/// characters; line breaks and tabs are allowed, other control characters are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(String);

/// Text of up to 200 characters.
pub type ShortText = Text<200>;
/// Text of up to 500 characters.
pub type LongText = Text<500>;

impl<const MAX: usize> Text<MAX> {
    /// Trims and checks the text.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        check_controls(text, true)?;
        check_length(text, MAX)?;
        Ok(Self(text.to_owned()))
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as an owned string.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// What a body's `validate` reports for the field `field` holding `raw`: nothing, or its error.
    pub fn field_errors(field: &str, raw: &str) -> Vec<crate::error::FieldError> {
        match Self::parse(raw) {
            Ok(_) => Vec::new(),
            Err(message) => vec![crate::error::FieldError::new(field, message)],
        }
    }
}

/// Refuses control characters (NUL, escape sequences, C1 controls, …), which no stored text may
/// hold, and the characters that make text read other than it is stored (see [`is_hidden`]);
/// text that may span lines keeps its line breaks and tabs.
pub fn check_controls(text: &str, multi_line: bool) -> Result<(), String> {
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err("must not contain control characters".to_owned());
    }
    if let Some(c) = text.chars().find(|c| is_hidden(*c)) {
        return Err(format!(
            "must not contain invisible or bidirectional formatting characters (U+{:04X})",
            u32::from(c)
        ));
    }
    Ok(())
}

/// Characters that reorder or hide text, so that a log reader could be shown another actor or
/// purpose than the one stored: bidirectional controls, zero-width and invisible operators, the
/// line and paragraph separators, the byte-order mark and tag characters.
pub fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

fn check_length(text: &str, max: usize) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Mari-Liis  ").unwrap().as_str(), "Mari-Liis");
        assert_eq!(Name::parse("Õie Ümarik").unwrap().as_str(), "Õie Ümarik");
        assert!(Name::parse(&"ä".repeat(200)).is_ok());
        assert_eq!(
            Name::parse(&"ä".repeat(201)).unwrap_err(),
            "must be at most 200 characters"
        );
        assert_eq!(Name::parse("   ").unwrap_err(), "must not be empty");
        assert_eq!(Name::parse("").unwrap_err(), "must not be empty");
    }

    #[test]
    fn names_refuse_control_characters_even_line_breaks() {
        for bad in [
            "Ma\u{0}ri",
            "Ma\nri",
            "Ma\tri",
            "Ma\u{1b}[31mri",
            "Ma\u{85}ri",
        ] {
            assert_eq!(
                Name::parse(bad).unwrap_err(),
                "must not contain control characters",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded_by_its_limit() {
        assert_eq!(ShortText::parse(" a\nb ").unwrap().as_str(), "a\nb");
        assert!(ShortText::parse(&"x".repeat(200)).is_ok());
        assert!(ShortText::parse(&"x".repeat(201)).is_err());
        assert!(LongText::parse(&"x".repeat(500)).is_ok());
        assert!(LongText::parse(&"x".repeat(501)).is_err());
        assert!(LongText::parse(" ").is_err());
        assert!(LongText::parse("a\u{0}b").is_err());
    }

    #[test]
    fn control_characters_are_refused_but_multi_line_text_keeps_its_breaks() {
        for bad in [
            "a\u{0}b",
            "a\u{7}b",
            "\u{1b}[2J",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9b}b",
        ] {
            assert!(check_controls(bad, true).is_err(), "{bad:?}");
            assert!(check_controls(bad, false).is_err(), "{bad:?}");
        }
        for breaks in ["a\nb", "a\r\nb", "a\tb"] {
            assert_eq!(check_controls(breaks, true), Ok(()));
            assert!(check_controls(breaks, false).is_err(), "{breaks:?}");
        }
        // A zero-width joiner builds emoji and some scripts' ligatures: it stays.
        assert_eq!(check_controls("Õie x\u{200d}y 👩\u{200d}🔬", false), Ok(()));
    }

    #[test]
    fn hidden_characters_are_refused_everywhere() {
        for c in [
            '\u{061C}',
            '\u{200B}',
            '\u{200E}',
            '\u{200F}',
            '\u{2028}',
            '\u{2029}',
            '\u{202A}',
            '\u{202E}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{E0000}',
            '\u{E0041}',
            '\u{E007F}',
        ] {
            let text = format!("admin{c}x");
            let message = check_controls(&text, true).unwrap_err();
            assert!(message.contains("invisible"), "{c:?}: {message}");
            assert!(Name::parse(&text).is_err() && LongText::parse(&text).is_err());
        }
        for fine in ['\u{2065}', '\u{206A}', '\u{E0080}', '\u{200D}', '\u{00AD}'] {
            assert!(!is_hidden(fine), "{fine:?}");
        }
    }
}
