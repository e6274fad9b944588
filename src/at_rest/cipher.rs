//! The one AEAD every stored secret goes through (AES-256-GCM, random 96-bit nonces), and the
//! associated data that binds a ciphertext to its table, column and row: a value copied to
//! another row or column no longer opens.
//!
//! Stored form: `0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`; the leading byte names the format so
//! that another algorithm could follow without guessing.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

const FORMAT: u8 = 1;
const NONCE_LEN: usize = 12;
const DOMAIN: &[u8] = b"planpro-privacy/at-rest/v1";

/// Where a ciphertext lives: its table, its column and its row's key (a UUID's 16 bytes, or a
/// composite key's bytes).
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub table: &'static str,
    pub column: &'static str,
    pub row: &'a [u8],
}

impl Place<'_> {
    /// The associated data: every part length-prefixed, so no two places share an encoding.
    fn aad(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(DOMAIN.len() + self.table.len() + self.column.len() + 40);
        for part in [
            DOMAIN,
            self.table.as_bytes(),
            self.column.as_bytes(),
            self.row,
        ] {
            out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }
}

/// 32 bytes of key material, wiped from memory when dropped.
pub type KeyBytes = Zeroizing<[u8; 32]>;

/// New random key material from the operating system.
pub fn random_key() -> KeyBytes {
    Zeroizing::new(crate::proof_keys::random_bytes())
}

/// A key ready to seal and open (its AES key schedule is wiped when dropped).
#[derive(Clone)]
pub struct Cipher(Aes256Gcm);

impl Cipher {
    /// The cipher of a 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Aes256Gcm::new(key.into()))
    }

    /// Encrypts `plaintext` for `place` under a fresh random nonce.
    pub fn seal(&self, place: Place<'_>, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        if getrandom::getrandom(&mut nonce).is_err() {
            // Without the OS generator no nonce is safe; a repeated one would break the key.
            log::error!("the operating system's random generator failed");
            std::process::abort();
        }
        let aad = place.aad();
        // AES-GCM encryption of an in-memory buffer below 64 GiB cannot fail.
        let sealed = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext, or `None` when the ciphertext is not one this key sealed for `place`.
    pub fn open(&self, place: Place<'_>, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let aad = place.aad();
        self.0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// Seals a text value; `None` stays `None`.
    pub fn seal_text(&self, place: Place<'_>, value: Option<&str>) -> Option<Vec<u8>> {
        value.map(|v| self.seal(place, v.as_bytes()))
    }

    /// Opens a text value; one that does not open (or is not UTF-8) reads as absent.
    pub fn open_text(&self, place: Place<'_>, sealed: Option<&[u8]>) -> Option<String> {
        let plain = self.open(place, sealed?)?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// Opens a 32-byte key wrapped by [`Cipher::seal`].
    pub fn unwrap_key(&self, place: Place<'_>, wrapped: &[u8]) -> Option<KeyBytes> {
        let plain = self.open(place, wrapped)?;
        let bytes: [u8; 32] = plain.as_slice().try_into().ok()?;
        Some(Zeroizing::new(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Place<'static> = Place {
        table: "subjects",
        column: "email_enc",
        row: b"row-1",
    };

    #[test]
    fn a_value_opens_only_in_its_own_place_under_its_own_key() {
        let key = Cipher::new(&[7; 32]);
        let sealed = key.seal(HERE, b"mari@example.ee");
        assert_eq!(
            key.open(HERE, &sealed).unwrap().as_slice(),
            b"mari@example.ee"
        );
        assert!(!sealed.windows(4).any(|w| w == b"mari"));
        for elsewhere in [
            Place {
                row: b"row-2",
                ..HERE
            },
            Place {
                column: "phone_enc",
                ..HERE
            },
            Place {
                table: "recipients",
                ..HERE
            },
        ] {
            assert!(key.open(elsewhere, &sealed).is_none(), "{elsewhere:?}");
        }
        assert!(Cipher::new(&[8; 32]).open(HERE, &sealed).is_none());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(key.open(HERE, &flipped).is_none());
        assert!(key.open(HERE, &sealed[..10]).is_none());
        assert_ne!(key.seal(HERE, b"x"), key.seal(HERE, b"x"), "nonces repeat");
    }

    #[test]
    fn places_with_shifted_boundaries_differ() {
        let a = Place {
            table: "ab",
            column: "c",
            row: b"",
        }
        .aad();
        let b = Place {
            table: "a",
            column: "bc",
            row: b"",
        }
        .aad();
        assert_ne!(a, b);
    }
}
