//! The offline check of an evidence bundle (`planpro-privacy verify-bundle`, and `evidence`
//! before it writes one). Independent of the service that writes bundles: it imports nothing
//! from the rest of the crate (a test keeps it so) and recomputes every hash from the
//! definitions — RFC 6962/9162 for the tree (`tree.rs`), C2SP signed notes for the checkpoint
//! (`note.rs`), RFC 8785 for the leaf data (`entries.rs`) — and checks the signatures with crates
//! the service does not sign with (`jsonwebtoken` for the JWS).
//!
//! Order: the manifest's signature (a bad signature names `manifest.jws`, a manifest that is not
//! what was signed names `manifest.json`), every file's SHA-256 and size against the manifest, no
//! file missing or extra, the checkpoint's signature, each receipt, then each entry's proof.

mod archive;
mod entries;
mod found;
mod jose;
mod note;
mod tree;

pub use found::{Files, Tampered};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The manifest's `format`.
const FORMAT: &str = "planpro-evidence/1";
const MANIFEST: &str = "manifest.json";
const SIGNATURE: &str = "manifest.jws";
const JWKS: &str = "jwks.json";
const CHECKPOINT: &str = "checkpoint.txt";
const CHECKPOINT_KEY: &str = "checkpoint-key.txt";

/// The files every bundle holds besides the manifest and its signature.
const REQUIRED: [&str; 11] = [
    "subject.json",
    "consent_events.json",
    "authorizations.json",
    "disclosures.json",
    "notifications.json",
    "information_notices.json",
    "access_log.ndjson",
    "pending.json",
    CHECKPOINT,
    CHECKPOINT_KEY,
    JWKS,
];

/// Keys the caller obtained apart from the bundle; without them the bundle's own are used.
#[derive(Default)]
pub struct Pins {
    /// A C2SP verifier key of the checkpoints.
    pub checkpoint_key: Option<String>,
    /// A JWK set of the receipt keys.
    pub jwks: Option<Vec<u8>>,
}

/// What a good bundle holds.
#[derive(Debug)]
pub struct Report {
    pub subject_id: String,
    pub files: usize,
    pub receipts: usize,
    pub entries: usize,
    pub proved: usize,
    pub pending: usize,
    pub tree_size: u64,
    /// Whether both keys came from the caller.
    pub pinned: bool,
}

/// Why a check could not be made or failed.
#[derive(Debug)]
pub enum Failure {
    /// A pinned key that cannot be read: a usage error.
    Usage(String),
    /// The bundle is not what was signed.
    Tampered(Tampered),
}

impl From<Tampered> for Failure {
    fn from(t: Tampered) -> Self {
        Failure::Tampered(t)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A manifest's listing: path → (sha256 hex, bytes).
type Listing = BTreeMap<String, (String, u64)>;

/// The manifest's subject and listing; why not, otherwise.
fn listing(manifest: &[u8]) -> Result<(String, Listing), String> {
    let value: serde_json::Value =
        serde_json::from_slice(manifest).map_err(|e| format!("not JSON: {e}"))?;
    if value["format"] != FORMAT {
        return Err(format!("its `format` is not `{FORMAT}`"));
    }
    let subject = value["subject_id"].as_str().ok_or("no `subject_id`")?;
    let mut listed = Listing::new();
    for file in value["files"].as_array().ok_or("no `files`")? {
        let (Some(path), Some(sha), Some(bytes)) = (
            file["path"].as_str(),
            file["sha256"].as_str(),
            file["bytes"].as_u64(),
        ) else {
            return Err("a file lacks `path`, `sha256` or `bytes`".into());
        };
        if path == MANIFEST || path == SIGNATURE {
            return Err(format!("it lists {path}"));
        }
        if listed
            .insert(path.to_owned(), (sha.to_owned(), bytes))
            .is_some()
        {
            return Err(format!("it lists {path} twice"));
        }
    }
    Ok((subject.to_owned(), listed))
}

/// Whether a path is one a bundle may hold.
fn expected(path: &str) -> bool {
    REQUIRED.contains(&path)
        || path
            .strip_prefix("receipts/")
            .is_some_and(|id| id.ends_with(".jws") && !id.contains('/'))
        || path
            .strip_prefix("proofs/")
            .is_some_and(|id| id.ends_with(".json") && !id.contains('/'))
}

/// The receipt keys: pinned, or the bundle's own.
fn receipt_keys(pinned: Option<&jose::KeySet>, files: &Files) -> Result<jose::KeySet, Tampered> {
    if let Some(keys) = pinned {
        return Ok(keys.clone());
    }
    let bytes = files
        .get(JWKS)
        .ok_or_else(|| Tampered::new(JWKS, "missing"))?;
    jose::KeySet::parse(bytes).map_err(|e| Tampered::new(JWKS, e))
}

/// The manifest, once its signature is checked: a bad signature names `manifest.jws` (or, with
/// the bundle's own keys, `jwks.json` when it is not the one the signed manifest lists).
fn signed_manifest(pinned: Option<&jose::KeySet>, files: &Files) -> Result<Vec<u8>, Tampered> {
    let manifest = files
        .get(MANIFEST)
        .ok_or_else(|| Tampered::new(MANIFEST, "missing"))?;
    let jws = files
        .get(SIGNATURE)
        .ok_or_else(|| Tampered::new(SIGNATURE, "missing"))?;
    let jws = std::str::from_utf8(jws).map_err(|_| Tampered::new(SIGNATURE, "not text"))?;
    let jwks_listed_elsewhere = || {
        let payload = jose::unverified_payload(jws)?;
        let (_, listed) = listing(&payload).ok()?;
        let (sha, _) = listed.get(JWKS)?;
        let actual = hex(&Sha256::digest(files.get(JWKS)?));
        (*sha != actual).then_some(())
    };
    let keys = match receipt_keys(pinned, files) {
        Err(t) if jwks_listed_elsewhere().is_some() => {
            return Err(Tampered::new(
                JWKS,
                format!("not the key set the manifest lists ({})", t.why),
            ))
        }
        other => other?,
    };
    let payload = match jose::verify(jws, &keys, "evidence-manifest+jws") {
        Ok(payload) => payload,
        Err(_) if pinned.is_none() && jwks_listed_elsewhere().is_some() => {
            return Err(Tampered::new(JWKS, "not the key set the manifest lists"))
        }
        Err(why) => return Err(Tampered::new(SIGNATURE, why)),
    };
    if payload != *manifest {
        return Err(Tampered::new(
            MANIFEST,
            "not the manifest manifest.jws signed",
        ));
    }
    Ok(payload)
}

/// Checks a bundle (the bytes of its zip) offline.
pub fn check(zip: &[u8], pins: &Pins) -> Result<Report, Failure> {
    let usage = |what: &str, why: String| Failure::Usage(format!("{what}: {why}"));
    let pinned_key = pins
        .checkpoint_key
        .as_deref()
        .map(note::NoteKey::parse)
        .transpose()
        .map_err(|why| usage("--key", why))?;
    let pinned_jwks = pins
        .jwks
        .as_deref()
        .map(jose::KeySet::parse)
        .transpose()
        .map_err(|why| usage("--jwks", why))?;
    let files = archive::read(zip)?;
    let manifest = signed_manifest(pinned_jwks.as_ref(), &files)?;
    let (subject, listed) = listing(&manifest).map_err(|why| Tampered::new(MANIFEST, why))?;
    for (path, (sha, bytes)) in &listed {
        let data = files
            .get(path)
            .ok_or_else(|| Tampered::new(path, "missing: the manifest lists it"))?;
        if data.len() as u64 != *bytes || hex(&Sha256::digest(data)) != *sha {
            return Err(Tampered::new(path, "its SHA-256 or size is not the manifest's").into());
        }
        if !expected(path) {
            return Err(Tampered::new(path, "not a file an evidence bundle holds").into());
        }
    }
    if let Some(extra) = files
        .keys()
        .find(|p| *p != MANIFEST && *p != SIGNATURE && !listed.contains_key(*p))
    {
        return Err(Tampered::new(extra, "extra: the manifest does not list it").into());
    }
    if let Some(missing) = REQUIRED.iter().find(|p| !listed.contains_key(**p)) {
        return Err(Tampered::new(missing, "missing: every bundle holds it").into());
    }
    let key = match pinned_key {
        Some(key) => key,
        None => note::NoteKey::parse(&String::from_utf8_lossy(&files[CHECKPOINT_KEY]))
            .map_err(|why| Tampered::new(CHECKPOINT_KEY, why))?,
    };
    let note = std::str::from_utf8(&files[CHECKPOINT])
        .map_err(|_| Tampered::new(CHECKPOINT, "not text"))?;
    let checkpoint = note::open(note, &key).map_err(|why| Tampered::new(CHECKPOINT, why))?;
    let keys = receipt_keys(pinned_jwks.as_ref(), &files)?;
    let receipts = receipts(&files, &keys, &subject)?;
    let counted = entries::check(&files, &subject, &checkpoint, note)?;
    Ok(Report {
        subject_id: subject,
        files: files.len(),
        receipts,
        entries: counted.entries,
        proved: counted.proved,
        pending: counted.pending,
        tree_size: checkpoint.size,
        pinned: pins.checkpoint_key.is_some() && pins.jwks.is_some(),
    })
}

/// Each receipt signed by a receipt key, about the person, of an event the bundle lists.
fn receipts(files: &Files, keys: &jose::KeySet, subject: &str) -> Result<usize, Tampered> {
    let events: serde_json::Value = serde_json::from_slice(&files["consent_events.json"])
        .map_err(|_| Tampered::new("consent_events.json", "not JSON"))?;
    let known: Vec<&str> = events
        .as_array()
        .ok_or_else(|| Tampered::new("consent_events.json", "not a JSON array"))?
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    let mut count = 0;
    for (path, bytes) in files.range("receipts/".to_owned()..) {
        let Some(id) = path
            .strip_prefix("receipts/")
            .and_then(|p| p.strip_suffix(".jws"))
        else {
            break;
        };
        let bad = |why: String| Tampered::new(path, why);
        let jws = std::str::from_utf8(bytes).map_err(|_| bad("not text".into()))?;
        let payload = jose::verify(jws, keys, "kantara-cr+jwt").map_err(bad)?;
        let receipt: serde_json::Value =
            serde_json::from_slice(&payload).map_err(|_| bad("its payload is not JSON".into()))?;
        if receipt["consentReceiptID"].as_str() != Some(id) {
            return Err(bad("its `consentReceiptID` is not its file name's".into()));
        }
        if receipt["piiPrincipalId"].as_str() != Some(subject) {
            return Err(bad("a receipt about someone else".into()));
        }
        if !known.contains(&id) {
            return Err(bad(
                "the receipt of an event consent_events.json does not list".into(),
            ));
        }
        count += 1;
    }
    Ok(count)
}
