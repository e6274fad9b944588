//! C2SP signed notes and tlog checkpoints, read from their specifications for the bundle check
//! alone: a verifier key `<name>+<hex key id>+<base64(0x01 ‖ Ed25519 public key)>`, the key id
//! being the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key); a note is its text, a
//! blank line, and lines `— <name> <base64(key id ‖ signature)>`; a checkpoint's text is the
//! origin, the tree size in decimal and the base64 root hash, one per line.

use super::tree::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// A verifier key.
pub struct NoteKey {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl NoteKey {
    /// Parses a verifier key, checking that its id belongs to its name and key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (name, rest) = text.split_once('+').ok_or("it is not NAME+KEYID+KEY")?;
        let (hex, key) = rest.split_once('+').ok_or("it is not NAME+KEYID+KEY")?;
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
            return Err("its name is empty or holds a space".into());
        }
        let typed = B64.decode(key).map_err(|_| "its key is not base64")?;
        let (kind, public) = typed.split_first().ok_or("its key is empty")?;
        if *kind != ED25519 {
            return Err("it is not an Ed25519 key".into());
        }
        let public: [u8; 32] = public.try_into().map_err(|_| "its key is not 32 bytes")?;
        let digest = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update([b'\n', ED25519])
            .chain_update(public)
            .finalize();
        let id = [digest[0], digest[1], digest[2], digest[3]];
        let stated = (0..4)
            .map(|i| {
                hex.get(i * 2..i * 2 + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>();
        if hex.len() != 8 || stated.as_deref() != Some(&id[..]) {
            return Err("its key id does not match its name and key".into());
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| "not a valid Ed25519 key")?;
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }
}

/// A checkpoint whose signature was checked.
pub struct Checkpoint {
    pub size: u64,
    pub root: Hash,
}

/// Reads a checkpoint note and checks that `key` signed it; why not, otherwise.
pub fn open(note: &str, key: &NoteKey) -> Result<Checkpoint, String> {
    let split = note
        .find("\n\n")
        .ok_or("the note has no blank line before its signatures")?;
    let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
    if !signatures.ends_with('\n') {
        return Err("the note does not end with a newline".into());
    }
    let signed = signatures.lines().any(|line| {
        let Some((name, blob)) = line
            .strip_prefix("\u{2014} ")
            .and_then(|rest| rest.rsplit_once(' '))
        else {
            return false;
        };
        let Ok(blob) = B64.decode(blob) else {
            return false;
        };
        name == key.name
            && blob.len() == 68
            && blob[..4] == key.id
            && Signature::from_slice(&blob[4..])
                .is_ok_and(|s| key.key.verify_strict(text.as_bytes(), &s).is_ok())
    });
    if !signed {
        return Err(format!(
            "it carries no valid signature by the key `{}`",
            key.name
        ));
    }
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default();
    if origin != key.name {
        return Err(format!(
            "its origin `{origin}` is not the key's name `{}`",
            key.name
        ));
    }
    let size = lines
        .next()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .filter(|s| *s == "0" || !s.starts_with('0'))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or("its second line is not a tree size")?;
    let root = lines
        .next()
        .and_then(|r| B64.decode(r).ok())
        .and_then(|r| Hash::try_from(r).ok())
        .ok_or("its third line is not a base64 SHA-256 hash")?;
    Ok(Checkpoint { size, root })
}
