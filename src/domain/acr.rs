//! The level of assurance of a person's login (eIDAS, as the `acr` claim names it).

/// An eIDAS level of assurance, as an `acr` claim names it; ordered from the weakest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Acr {
    Low,
    Substantial,
    High,
}

impl Acr {
    /// The level an `acr` value names.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "low" => Some(Self::Low),
            "substantial" => Some(Self::Substantial),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    /// The level as `acr` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }
}
