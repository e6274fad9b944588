//! Webhook secrets at rest: sealed with XChaCha20-Poly1305 under the service's data key
//! (`DATA_KEY`), the webhook's id as associated data so that a sealed secret copied to another
//! row does not open there. This pair is the one seam for the master-key seal of `at_rest` once
//! that lands; nothing else reads or writes a sealed secret.

use crate::error::{ApiError, ApiResult};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::sync::OnceLock;

/// The version byte in front of every sealed value, so that a later scheme can tell its own.
const VERSION: u8 = 1;
const NONCE_BYTES: usize = 24;

static KEY: OnceLock<[u8; 32]> = OnceLock::new();

/// Installs the data key; a second, different key in the same process is refused.
pub fn install(bytes: &[u8; 32]) -> Result<(), String> {
    if KEY.get_or_init(|| *bytes) != bytes {
        return Err("DATA_KEY cannot change while the process runs".into());
    }
    Ok(())
}

fn cipher() -> ApiResult<XChaCha20Poly1305> {
    let key = KEY
        .get()
        .ok_or_else(|| ApiError::internal("no data key installed"))?;
    Ok(XChaCha20Poly1305::new(key.into()))
}

/// `plain` sealed for the row `context`: version ‖ random nonce ‖ ciphertext with its tag.
pub fn seal(plain: &[u8], context: &[u8]) -> ApiResult<Vec<u8>> {
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::getrandom(&mut nonce).map_err(ApiError::internal)?;
    let sealed = cipher()?
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plain,
                aad: context,
            },
        )
        .map_err(|_| ApiError::internal("sealing failed"))?;
    let mut out = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// What [`seal`] sealed for `context`; an error for anything else (another key, another row).
pub fn open(sealed: &[u8], context: &[u8]) -> ApiResult<Vec<u8>> {
    let refused = || ApiError::internal("a sealed webhook secret does not open");
    if sealed.len() < 1 + NONCE_BYTES || sealed[0] != VERSION {
        return Err(refused());
    }
    let (nonce, body) = sealed[1..].split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| refused())?;
    cipher()?
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: body,
                aad: context,
            },
        )
        .map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_own_row() {
        install(&[7u8; 32]).unwrap();
        let sealed = seal(b"whsec_abc", b"row-1").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"whsec_abc"));
        assert_eq!(open(&sealed, b"row-1").unwrap(), b"whsec_abc");
        assert!(open(&sealed, b"row-2").is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(open(&tampered, b"row-1").is_err());
    }
}
