//! Double opt-in: the one-time token a pending grant is confirmed with. Only its SHA-256 is
//! stored; the token itself is answered once, to the caller who recorded the grant.

use crate::error::{ApiError, ApiResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use sha2::{Digest, Sha256};

/// How long a token stays valid, in clock hours.
pub const VALID_HOURS: i64 = 168;

/// A fresh token and its hash.
pub struct Token {
    /// 32 random bytes, base64url without padding: 43 characters.
    pub secret: String,
    pub hash: [u8; 32],
}

impl Token {
    /// A token from the operating system's random source.
    pub fn new() -> ApiResult<Self> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(ApiError::internal)?;
        let secret = B64URL.encode(bytes);
        Ok(Self {
            hash: hash_of(&secret),
            secret,
        })
    }
}

/// The stored form of a token.
pub fn hash_of(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether `text` has a token's form: 43 base64url characters.
pub fn well_formed(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_base64url_characters_and_differ() {
        let (a, b) = (Token::new().unwrap(), Token::new().unwrap());
        assert!(well_formed(&a.secret), "{}", a.secret);
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, hash_of(&a.secret));
        assert!(!well_formed("short"));
        assert!(!well_formed(&"=".repeat(43)));
    }
}
