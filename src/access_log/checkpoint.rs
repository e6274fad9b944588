//! Signed checkpoints: the tree's size and root in a C2SP tlog-checkpoint signed note with an
//! Ed25519 key, so that anyone holding the verifier key can check what the service committed to.
//! The same parser and verifier serve the `audit` command and the tests.

use super::merkle::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The origin line when `CHECKPOINT_ORIGIN` is not set.
pub const DEFAULT_ORIGIN: &str = "planpro-privacy/access-log";

/// The signature type byte of Ed25519 in C2SP signed notes.
const ED25519: u8 = 0x01;

/// The signed-note key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The note body: origin, size and base64 root, each on its line.
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", B64.encode(root))
}

/// Signs checkpoints under the origin's name.
pub struct Signer {
    key: SigningKey,
    origin: String,
    id: [u8; 4],
}

impl Signer {
    /// A signer for `origin` with this key.
    pub fn new(key: SigningKey, origin: &str) -> Self {
        let id = key_id(origin, key.verifying_key().as_bytes());
        Self {
            key,
            origin: origin.to_owned(),
            id,
        }
    }

    /// The origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key: `<origin>+<8 hex digits of the key id>+<base64(0x01 ‖ public key)>`.
    pub fn verifier_key(&self) -> String {
        let mut typed = vec![ED25519];
        typed.extend_from_slice(self.key.verifying_key().as_bytes());
        let hex: String = self.id.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}+{hex}+{}", self.origin, B64.encode(typed))
    }

    /// The signed note for a tree of `size` leaves with this root.
    pub fn sign(&self, size: u64, root: &Hash) -> String {
        self.sign_text(&body(&self.origin, size, root))
    }

    /// A signed note of any text (ending in a newline) under this key, such as a rollback
    /// statement.
    pub fn sign_text(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.id.to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{text}\n\u{2014} {} {}\n", self.origin, B64.encode(blob))
    }
}

/// A parsed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The signed text: everything before the blank line, newline included.
    pub body: String,
    /// (key name, key id, signature bytes after the id) of every signature line.
    pub signatures: Vec<(String, [u8; 4], Vec<u8>)>,
}

/// Parses a signed note holding a checkpoint.
pub fn parse(note: &str) -> Result<Checkpoint, String> {
    let (text, sigs) = note
        .split_once("\n\n")
        .ok_or("the note has no blank line before its signatures")?;
    let body = format!("{text}\n");
    let mut lines = text.split('\n');
    let origin = lines
        .next()
        .filter(|o| !o.is_empty())
        .ok_or("no origin line")?;
    let size = lines
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or("the second line is not a tree size")?;
    let root: Hash = lines
        .next()
        .and_then(|r| B64.decode(r).ok())
        .and_then(|r| r.try_into().ok())
        .ok_or("the third line is not a base64 SHA-256 root hash")?;
    let mut signatures = Vec::new();
    for line in sigs.lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or("a signature line does not start with an em dash")?;
        let (name, blob) = rest
            .rsplit_once(' ')
            .ok_or("a signature line has no signature")?;
        let blob = B64.decode(blob).map_err(|_| "a signature is not base64")?;
        if blob.len() < 5 {
            return Err("a signature is too short".into());
        }
        let id = [blob[0], blob[1], blob[2], blob[3]];
        signatures.push((name.to_owned(), id, blob[4..].to_vec()));
    }
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
        body,
        signatures,
    })
}

/// A verifier key, parsed.
#[derive(Debug, Clone)]
pub struct VerifierKey {
    pub name: String,
    pub id: [u8; 4],
    key: VerifyingKey,
}

impl VerifierKey {
    /// Parses `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, checking the id matches.
    pub fn parse(text: &str) -> Result<Self, String> {
        // A key name holds no `+`; the base64 key may.
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(hex), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("a verifier key is NAME+KEYID+BASE64KEY".into());
        };
        let typed = B64.decode(key).map_err(|_| "the key part is not base64")?;
        let Some((&ED25519, public)) = typed.split_first() else {
            return Err("the key is not an Ed25519 key (type 0x01)".into());
        };
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| "an Ed25519 public key is 32 bytes")?;
        let id = key_id(name, &public);
        let stated: String = id.iter().map(|b| format!("{b:02x}")).collect();
        if !stated.eq_ignore_ascii_case(hex) {
            return Err("the key id does not match the name and key".into());
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| "not a valid Ed25519 key")?;
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// True when the checkpoint carries a valid signature by this key.
    pub fn verifies(&self, checkpoint: &Checkpoint) -> bool {
        checkpoint.signatures.iter().any(|(name, id, sig)| {
            *name == self.name
                && *id == self.id
                && Signature::from_slice(sig).is_ok_and(|s| {
                    self.key
                        .verify_strict(checkpoint.body.as_bytes(), &s)
                        .is_ok()
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_note_parses_and_verifies_and_a_changed_one_does_not() {
        // Found by trial: this key's base64 form holds a `+`.
        let signer = (0u8..=255)
            .map(|b| Signer::new(SigningKey::from_bytes(&[b; 32]), DEFAULT_ORIGIN))
            .find(|s| s.verifier_key().matches('+').count() > 2)
            .unwrap();
        let note = signer.sign(7, &[9; 32]);
        let vkey = VerifierKey::parse(&signer.verifier_key()).unwrap();
        let cp = parse(&note).unwrap();
        assert_eq!(
            (cp.size, cp.root, cp.origin.as_str()),
            (7, [9; 32], DEFAULT_ORIGIN)
        );
        assert!(vkey.verifies(&cp));
        let forged = parse(&note.replace("\n7\n", "\n8\n")).unwrap();
        assert!(!vkey.verifies(&forged));
    }
}
