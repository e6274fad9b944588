//! The language a person prefers to be addressed in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Estonian, English or Russian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Et,
    En,
    Ru,
}

impl Language {
    /// Every language, in the contract's order.
    pub const ALL: [Language; 3] = [Language::Et, Language::En, Language::Ru];

    /// The language with this code.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == raw)
            .ok_or_else(|| "must be one of et, en, ru".to_owned())
    }

    /// The code as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Et => "et",
            Language::En => "en",
            Language::Ru => "ru",
        }
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
