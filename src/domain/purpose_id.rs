//! The id of a purpose of processing: the `{purpose}` in consent paths.

use std::fmt;

/// The longest purpose id.
pub const MAX_LEN: usize = 64;

/// A purpose id: a lowercase ASCII letter, then 1 to 63 lowercase letters, digits or `_`
/// (`^[a-z][a-z0-9_]{1,63}$`, the same rule as the `purposes` table's check).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PurposeId(String);

impl PurposeId {
    /// Checks the text against the purpose-id rule.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        let well_formed = (2..=MAX_LEN).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes[1..]
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "must be 2 to {MAX_LEN} characters: a lowercase letter, then lowercase letters, digits or underscores"
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for PurposeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_ids() {
        for id in [
            "ab",
            "marketing_planpro",
            "x1",
            "a_",
            &format!("a{}", "b".repeat(63)),
        ] {
            assert_eq!(
                PurposeId::parse(id).map(|p| p.into_inner()).as_deref(),
                Ok(id)
            );
        }
    }

    #[test]
    fn refuses_everything_else() {
        for id in [
            "",
            "a",
            "1abc",
            "_abc",
            "Marketing",
            "mark-eting",
            "mark eting",
            " marketing",
            "märketing",
            &format!("a{}", "b".repeat(64)),
        ] {
            assert!(PurposeId::parse(id).is_err(), "{id:?} was accepted");
        }
    }
}
