//! The master keys: `DATA_KEY` (or `DATA_KEY_FILE`), which wraps every new key, and during a
//! rotation `DATA_KEY_PREVIOUS`, which still opens keys wrapped before it. Each is named by its
//! key id, the first 8 bytes of SHA-256 over a label and the key, stored beside every wrapped
//! key so that the right master key is tried first and a rotation knows what is left to do.
//!
//! The keyring is installed once per process at start-up, like the access-log key, so that the
//! group-commit writers and every model function reach it without a parameter.

use super::cipher::{Cipher, KeyBytes, Place};
use crate::config::secret::Secret;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// A master key's public name.
pub type KeyId = [u8; 8];

/// One master key.
#[derive(Clone)]
pub struct MasterKey {
    pub id: KeyId,
    cipher: Cipher,
}

impl MasterKey {
    /// The master key of these bytes.
    pub fn new(bytes: &[u8; 32]) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"planpro-privacy data key id\0");
        hash.update(bytes);
        let digest = hash.finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Self {
            id,
            cipher: Cipher::new(bytes),
        }
    }
}

/// The current master key and, during a rotation, the previous one.
#[derive(Clone)]
pub struct Keyring {
    pub current: MasterKey,
    pub previous: Option<MasterKey>,
}

impl Keyring {
    /// A keyring of raw keys.
    pub fn new(current: &[u8; 32], previous: Option<&[u8; 32]>) -> Self {
        Self {
            current: MasterKey::new(current),
            previous: previous.map(MasterKey::new),
        }
    }

    /// Wraps `key` for `place` under the current master key: `(key id, wrapped)`.
    pub fn wrap(&self, place: Place<'_>, key: &[u8; 32]) -> (Vec<u8>, Vec<u8>) {
        (
            self.current.id.to_vec(),
            self.current.cipher.seal(place, key),
        )
    }

    /// Unwraps a key wrapped by either master key; `None` when neither opens it.
    pub fn unwrap(&self, place: Place<'_>, key_id: &[u8], wrapped: &[u8]) -> Option<KeyBytes> {
        let by_id = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|m| m.id.as_slice() == key_id)?;
        by_id.cipher.unwrap_key(place, wrapped)
    }
}

static KEYRING: OnceLock<Keyring> = OnceLock::new();

/// Installs the process's keyring; a second install must name the same keys.
pub fn install(keyring: Keyring) -> Result<(), String> {
    let installed = KEYRING.get_or_init(|| keyring.clone());
    let same = installed.current.id == keyring.current.id
        && installed.previous.as_ref().map(|k| k.id) == keyring.previous.as_ref().map(|k| k.id);
    if same {
        Ok(())
    } else {
        Err("DATA_KEY and DATA_KEY_PREVIOUS cannot change while the process runs".into())
    }
}

/// The installed keyring, if start-up installed one.
pub fn installed() -> Option<&'static Keyring> {
    KEYRING.get()
}

/// The settings as read (form checked; presence is checked when resolved).
#[derive(Debug, Clone, Default)]
pub struct KeySettings {
    current: Option<Secret>,
    previous: Option<Secret>,
}

fn parse(name: &str, value: &str) -> Result<KeyBytes, String> {
    let decoded = Zeroizing::new(B64.decode(value.trim()).unwrap_or_default());
    <[u8; 32]>::try_from(decoded.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| {
            format!("{name}: must be 32 random bytes in base64 (standard alphabet, with padding)")
        })
}

impl KeySettings {
    /// Reads `DATA_KEY` and `DATA_KEY_PREVIOUS` through `raw` (which resolves `X_FILE`); the
    /// problems found, each naming its variable and never its value.
    pub fn read(raw: &mut dyn FnMut(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let current = raw("DATA_KEY").map(Secret::new);
        let previous = raw("DATA_KEY_PREVIOUS").map(Secret::new);
        for (name, value) in [("DATA_KEY", &current), ("DATA_KEY_PREVIOUS", &previous)] {
            if let Some(Err(e)) = value.as_ref().map(|v| parse(name, v.expose())) {
                problems.push(e);
            }
        }
        if previous.is_some() && current.is_none() {
            problems.push("DATA_KEY_PREVIOUS: set only together with DATA_KEY".to_owned());
        }
        (Self { current, previous }, problems)
    }

    /// Whether `DATA_KEY` was given.
    pub fn is_set(&self) -> bool {
        self.current.is_some()
    }

    /// The keyring; in embedded mode a missing `DATA_KEY` is generated into `data_dir/data-key`
    /// (mode 0600) or read from there.
    pub fn resolve(&self, embedded: bool, data_dir: &Path) -> Result<Keyring, String> {
        let current = match (&self.current, embedded) {
            (Some(v), _) => parse("DATA_KEY", v.expose())?,
            (None, true) => {
                let path = data_dir.join("data-key");
                let text = crate::proof_keys::read_or_create(&path, || {
                    B64.encode(crate::proof_keys::random_bytes())
                })?;
                parse(&format!("DATA_KEY ({})", path.display()), &text)?
            }
            (None, false) => {
                return Err(
                    "DATA_KEY (or DATA_KEY_FILE): required when DATABASE_URL is set".to_owned(),
                )
            }
        };
        let previous = match &self.previous {
            Some(v) => Some(parse("DATA_KEY_PREVIOUS", v.expose())?),
            None => None,
        };
        if previous.as_deref() == Some(&*current) {
            return Err("DATA_KEY_PREVIOUS: the same key as DATA_KEY".to_owned());
        }
        Ok(Keyring::new(&current, previous.as_deref()))
    }

    /// Resolves the keyring and installs it for the process (start-up).
    pub fn install(&self, embedded: bool, data_dir: &Path) -> Result<(), String> {
        install(self.resolve(embedded, data_dir)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> (KeySettings, Vec<String>) {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        KeySettings::read(&mut |name| map.get(name).map(|v| (*v).to_owned()))
    }

    #[test]
    fn a_malformed_key_is_named_without_its_value() {
        let (_, problems) = read(&[("DATA_KEY", "c2hvcnQ="), ("DATA_KEY_PREVIOUS", "!!")]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("DATA_KEY:") && !problems[0].contains("c2hvcnQ"));
        assert!(problems[1].starts_with("DATA_KEY_PREVIOUS:"));
    }

    #[test]
    fn an_external_database_needs_a_key_and_embedded_mode_makes_one() {
        let (settings, problems) = read(&[]);
        assert!(problems.is_empty());
        let dir = std::env::temp_dir().join(format!("dk-{}", uuid::Uuid::new_v4().simple()));
        let err = settings.resolve(false, &dir).err().unwrap();
        assert!(err.starts_with("DATA_KEY (or DATA_KEY_FILE)"), "{err}");
        let made = settings.resolve(true, &dir).unwrap();
        let again = settings.resolve(true, &dir).unwrap();
        assert_eq!(made.current.id, again.current.id);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("data-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn keys_wrapped_by_either_master_key_open() {
        let old = Keyring::new(&[1; 32], None);
        let place = Place {
            table: "subject_keys",
            column: "wrapped",
            row: b"s",
        };
        let (id, wrapped) = old.wrap(place, &[9; 32]);
        let rotating = Keyring::new(&[2; 32], Some(&[1; 32]));
        assert_eq!(*rotating.unwrap(place, &id, &wrapped).unwrap(), [9; 32]);
        assert!(Keyring::new(&[2; 32], None)
            .unwrap(place, &id, &wrapped)
            .is_none());
    }
}
