//! What the check finds: the bundle's files, and the first bad one.

use std::collections::BTreeMap;

/// The files of a bundle by path.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The first bad file found, and what is wrong with it.
#[derive(Debug)]
pub struct Tampered {
    pub file: String,
    pub why: String,
}

impl Tampered {
    pub(super) fn new(file: &str, why: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            why: why.into(),
        }
    }
}

impl std::fmt::Display for Tampered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.why)
    }
}
