//! Keyed entries: the service authenticates every entry it writes with an HMAC-SHA256 under
//! `ACCESS_LOG_KEY`, so that a row inserted behind its back, however plausible, is told apart.
//! The MAC covers the entry's leaf data, the one canonical encoding that the Merkle tree and
//! outside auditors use as well.

use chrono::{DateTime, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::sync::OnceLock;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// The ten members of an entry, in RFC 8785 order (member names sorted): serde_json writes
/// exactly RFC 8785's form for these types (integers, and strings escaped as ECMAScript does).
#[derive(Serialize)]
struct LeafData<'a> {
    action: &'a str,
    actor: &'a str,
    at: String,
    count: Option<i32>,
    id: &'a Uuid,
    outcome: &'a str,
    purpose: Option<&'a str>,
    recipient_id: Option<&'a Uuid>,
    request_id: &'a str,
    subject_id: Option<&'a Uuid>,
}

/// `at` as the API and the leaf data spell it: always six fractional digits and `Z`.
pub fn micros(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The fields leaf data is made of, borrowed from a stored or a new entry.
pub struct Fields<'a> {
    pub id: &'a Uuid,
    pub at: &'a DateTime<Utc>,
    pub actor: &'a str,
    pub recipient_id: Option<&'a Uuid>,
    pub action: &'a str,
    pub subject_id: Option<&'a Uuid>,
    pub outcome: &'a str,
    pub purpose: Option<&'a str>,
    pub request_id: &'a str,
    pub count: Option<i32>,
}

/// The entry's leaf data: the RFC 8785 canonical JSON of its ten members, nulls included.
pub fn leaf_data<'a>(entry: impl Into<Fields<'a>>) -> Vec<u8> {
    let f = entry.into();
    let data = LeafData {
        action: f.action,
        actor: f.actor,
        at: micros(f.at),
        count: f.count,
        id: f.id,
        outcome: f.outcome,
        purpose: f.purpose,
        recipient_id: f.recipient_id,
        request_id: f.request_id,
        subject_id: f.subject_id,
    };
    // Serialising these plain fields cannot fail.
    serde_json::to_vec(&data).unwrap_or_default()
}

/// The access-log key, its HMAC state prepared once.
#[derive(Clone)]
pub struct MacKey {
    keyed: HmacSha256,
}

impl MacKey {
    /// A key from its 32 bytes.
    pub fn new(bytes: &[u8; 32]) -> Self {
        // HMAC pads a short key with zeros to the block size; doing it here needs no fallible call.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(bytes);
        Self {
            keyed: <HmacSha256 as KeyInit>::new(&block.into()),
        }
    }

    /// The MAC of an entry's leaf data.
    pub fn mac(&self, data: &[u8]) -> Vec<u8> {
        let mut m = self.keyed.clone();
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }

    /// True when `mac` is this key's MAC of `data` (compared in constant time).
    pub fn verify(&self, data: &[u8], mac: &[u8]) -> bool {
        let mut m = self.keyed.clone();
        m.update(data);
        m.verify_slice(mac).is_ok()
    }
}

/// The process's key. `record` runs on the caller's connection from every handler; a key set
/// once at start keeps that one insert path free of extra parameters.
static KEY: OnceLock<MacKey> = OnceLock::new();
static KEY_BYTES: OnceLock<[u8; 32]> = OnceLock::new();

/// Installs the key; a second, different key in the same process is refused.
pub fn install(bytes: &[u8; 32]) -> Result<(), String> {
    let installed = KEY_BYTES.get_or_init(|| *bytes);
    if installed != bytes {
        return Err("ACCESS_LOG_KEY cannot change while the process runs".into());
    }
    KEY.get_or_init(|| MacKey::new(bytes));
    Ok(())
}

/// The installed key (`None` before start-up installed one).
pub fn key() -> Option<&'static MacKey> {
    KEY.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_verifies_only_its_own_data() {
        let key = MacKey::new(&[7; 32]);
        let mac = key.mac(b"data");
        assert!(key.verify(b"data", &mac));
        assert!(!key.verify(b"datb", &mac));
        assert!(!MacKey::new(&[8; 32]).verify(b"data", &mac));
    }
}
