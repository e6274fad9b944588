//! The keys behind the proofs: the access-log MAC key, the checkpoint signing key and the
//! consent-receipt signing key; and the data key that seals service secrets (webhook secrets). Read from the environment (`X` or `X_FILE`); required with
//! `DATABASE_URL`, generated (mode 0600, under `DATA_DIR`) only in embedded mode.

use crate::config::secret::Secret;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use std::path::Path;
use std::time::Duration;

/// The proof settings as configured (checked for form; presence is checked at start).
#[derive(Debug, Clone)]
pub struct KeySettings {
    access_log_key: Option<Secret>,
    checkpoint_key: Option<Secret>,
    receipt_key: Option<Secret>,
    /// `CHECKPOINT_ORIGIN`: the first line of every checkpoint and the key's name.
    pub origin: String,
    /// `CHECKPOINT_INTERVAL_MS`: the least time between two checkpoints (default 5 s, so an
    /// entry is in a signed checkpoint well within 10 s of its commit).
    pub checkpoint_interval: Duration,
}

/// The keys, ready to use.
pub struct ProofKeys {
    pub access_log_key: [u8; 32],
    pub checkpoint_key: SigningKey,
    pub receipt_key: SigningKey,
}

fn parse_mac_key(value: &str) -> Result<[u8; 32], String> {
    parse_key("ACCESS_LOG_KEY", value)
}

fn parse_key(name: &str, value: &str) -> Result<[u8; 32], String> {
    B64.decode(value.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| format!("{name}: must be 32 random bytes in base64"))
}

fn parse_signing_key(name: &str, pem: &str) -> Result<SigningKey, String> {
    SigningKey::from_pkcs8_pem(pem.trim())
        .map_err(|_| format!("{name}_FILE: must hold an Ed25519 private key in PKCS#8 PEM"))
}

impl KeySettings {
    /// Reads the settings through `raw` (which resolves `X_FILE`); returns the problems found.
    pub fn read(raw: &mut dyn FnMut(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let access_log_key = raw("ACCESS_LOG_KEY").map(Secret::new);
        if let Some(Err(e)) = access_log_key.as_ref().map(|k| parse_mac_key(k.expose())) {
            problems.push(e);
        }
        let checkpoint_key = raw("CHECKPOINT_SIGNING_KEY").map(Secret::new);
        let receipt_key = raw("RECEIPT_SIGNING_KEY").map(Secret::new);
        for (name, key) in [
            ("CHECKPOINT_SIGNING_KEY", &checkpoint_key),
            ("RECEIPT_SIGNING_KEY", &receipt_key),
        ] {
            if let Some(Err(e)) = key.as_ref().map(|k| parse_signing_key(name, k.expose())) {
                problems.push(e);
            }
        }
        let origin = raw("CHECKPOINT_ORIGIN")
            .unwrap_or_else(|| crate::access_log::checkpoint::DEFAULT_ORIGIN.to_owned());
        if origin.is_empty() || origin.contains(['\n', ' ', '+']) || !origin.is_ascii() {
            problems.push("CHECKPOINT_ORIGIN: printable ASCII without spaces or `+`".to_owned());
        }
        let interval = match raw("CHECKPOINT_INTERVAL_MS").map(|v| v.trim().parse::<u64>()) {
            None => 5000,
            Some(Ok(ms)) if (50..=10_000).contains(&ms) => ms,
            Some(_) => {
                problems.push("CHECKPOINT_INTERVAL_MS: a number from 50 to 10000".to_owned());
                5000
            }
        };
        let settings = Self {
            access_log_key,
            checkpoint_key,
            receipt_key,
            origin,
            checkpoint_interval: Duration::from_millis(interval),
        };
        (settings, problems)
    }

    /// The keys; in embedded mode a missing one is generated into `data_dir` (mode 0600).
    pub fn resolve(&self, embedded: bool, data_dir: &Path) -> Result<ProofKeys, String> {
        let mut problems = Vec::new();
        let mut get = |name: &str, value: &Option<Secret>, file: &str, make: fn() -> String| match (
            value, embedded,
        ) {
            (Some(v), _) => Some(v.expose().to_owned()),
            (None, true) => match read_or_create(&data_dir.join(file), make) {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
            (None, false) => {
                problems.push(format!(
                    "{name} (or {name}_FILE): required when DATABASE_URL is set"
                ));
                None
            }
        };
        let mac = get(
            "ACCESS_LOG_KEY",
            &self.access_log_key,
            "access-log-key",
            || B64.encode(random_bytes()),
        );
        let checkpoint = get(
            "CHECKPOINT_SIGNING_KEY",
            &self.checkpoint_key,
            "checkpoint-signing-key.pem",
            new_pem,
        );
        let receipt = get(
            "RECEIPT_SIGNING_KEY",
            &self.receipt_key,
            "receipt-signing-key.pem",
            new_pem,
        );
        let keys = (|| {
            Some(ProofKeys {
                access_log_key: parse_mac_key(&mac?).map_err(|e| problems.push(e)).ok()?,
                checkpoint_key: parse_signing_key("CHECKPOINT_SIGNING_KEY", &checkpoint?)
                    .map_err(|e| problems.push(e))
                    .ok()?,
                receipt_key: parse_signing_key("RECEIPT_SIGNING_KEY", &receipt?)
                    .map_err(|e| problems.push(e))
                    .ok()?,
            })
        })();
        match keys {
            Some(keys) if problems.is_empty() => Ok(keys),
            _ => Err(format!(
                "invalid configuration:\n  - {}",
                problems.join("\n  - ")
            )),
        }
    }
}

/// 32 bytes from the operating system's generator.
pub fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    // Without the OS generator no key can be made; start-up stops with that message.
    if let Err(e) = getrandom::getrandom(&mut bytes) {
        log::error!("the operating system's random generator failed: {e}");
        std::process::exit(2);
    }
    bytes
}

/// A new Ed25519 key as PKCS#8 PEM.
pub fn new_pem() -> String {
    SigningKey::from_bytes(&random_bytes())
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map(|pem| pem.to_string())
        .unwrap_or_default()
}

/// The contents of `path`, made with `make` (mode 0600) when it does not exist yet.
pub fn read_or_create(path: &Path, make: fn() -> String) -> Result<String, String> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(existing);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let value = make();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, value.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    log::info!("generated {}", path.display());
    Ok(value)
}
