//! Blind indexes: exact lookups (`?personal_code=`, `?email=`, the duplicate personal code) match
//! an HMAC-SHA256 of the normalised value under the index key, never the value itself. The index
//! key is a service key of its own, wrapped by the master key, so a rotation keeps every index.

use super::store::{service_key, ServiceKey};
use crate::error::ApiResult;
use diesel::PgConnection;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a blind index is over; its name keeps two fields with one value apart.
#[derive(Debug, Clone, Copy)]
pub enum Indexed {
    PersonalCode,
    Email,
}

impl Indexed {
    fn label(self) -> &'static [u8] {
        match self {
            Indexed::PersonalCode => b"personal_code\0",
            Indexed::Email => b"email\0",
        }
    }
}

/// The blind index of `value`, which must already be normalised exactly as stored (the
/// validated form of `PersonalCode` or `Email`).
pub fn blind_index(conn: &mut PgConnection, field: Indexed, value: &str) -> ApiResult<Vec<u8>> {
    let key = service_key(conn, ServiceKey::BlindIndex)?;
    Ok(with_key(key, field, value))
}

/// The index under a given key.
pub fn with_key(key: &[u8; 32], field: Indexed, value: &str) -> Vec<u8> {
    // HMAC pads a short key with zeros to the block size; doing it here needs no fallible call.
    let mut block = zeroize::Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
    mac.update(field.label());
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_keys_separate_indexes() {
        let a = with_key(&[1; 32], Indexed::Email, "a@b.ee");
        assert_eq!(a, with_key(&[1; 32], Indexed::Email, "a@b.ee"));
        assert_ne!(a, with_key(&[1; 32], Indexed::PersonalCode, "a@b.ee"));
        assert_ne!(a, with_key(&[2; 32], Indexed::Email, "a@b.ee"));
        assert_eq!(a.len(), 32);
    }
}
