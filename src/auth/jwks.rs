//! An identity provider's key set (JWKS, RFC 7517): kept in memory, fetched again every
//! `JWT_JWKS_REFRESH_S` and when a token names a key the set lacks, so that the provider can
//! rotate keys without a restart. A failed fetch keeps the last good set.

use crate::config::{JwksConfig, JwksSource};
use crate::http_client::{ClientOptions, HttpClient};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// A token naming an unknown key triggers a fetch at most this often.
pub const ON_DEMAND_EVERY: Duration = Duration::from_secs(30);
/// How long a request waits for the fetch its unknown key triggered.
pub const ON_DEMAND_WAIT: Duration = Duration::from_secs(2);
/// The deadline of a scheduled fetch.
const SCHEDULED_TIMEOUT: Duration = Duration::from_secs(10);
/// Until a first set has been fetched, fetches are retried this often.
const RETRY_UNTIL_LOADED: Duration = Duration::from_secs(5);
/// No key set is larger than this.
const MAX_SET_BYTES: u64 = 1024 * 1024;

/// One verification key and the only algorithm it accepts.
#[derive(Clone)]
pub struct Key {
    pub decoding: DecodingKey,
    pub algorithm: Algorithm,
}

/// Keys by `kid`.
pub type Keys = HashMap<String, Key>;

/// The signature algorithm of a key: the one it names, else the one its type implies. Only
/// RS256, ES256 and EdDSA are taken, so no key can stand for a shared secret.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(implied),
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => Some(implied),
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => Some(implied),
        Some(KeyAlgorithm::EdDSA) if implied == Algorithm::EdDSA => Some(implied),
        Some(_) => None,
    }
}

/// The usable signing keys of a JWKS document. Keys of other kinds (encryption keys, other
/// algorithms, keys without `kid`) are skipped one by one, not the whole set; a set with no
/// usable key at all is an error.
pub fn parse(bytes: &[u8]) -> Result<Keys, String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(bytes)
        .map_err(|_| "not a JWKS document (a JSON object with a `keys` array)".to_owned())?;
    let mut keys = Keys::new();
    for value in document.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let for_signing = !matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        );
        let (Some(kid), Some(algorithm), true) =
            (jwk.common.key_id.clone(), algorithm_of(&jwk), for_signing)
        else {
            continue;
        };
        if let Ok(decoding) = DecodingKey::from_jwk(&jwk) {
            keys.insert(
                kid,
                Key {
                    decoding,
                    algorithm,
                },
            );
        }
    }
    if keys.is_empty() {
        return Err(
            "the key set holds no usable key (RS256, ES256 or EdDSA, with a `kid`)".to_owned(),
        );
    }
    Ok(keys)
}

/// The keys in use, and what is needed to fetch them again.
pub struct KeySet {
    source: JwksSource,
    client: HttpClient,
    keys: RwLock<Arc<Keys>>,
    /// When a token's unknown key last triggered a fetch.
    last_on_demand: Mutex<Option<Instant>>,
    /// One fetch at a time.
    fetching: Mutex<()>,
}

impl KeySet {
    /// Fetches the set once and starts the thread that fetches it again every `config.refresh`.
    /// A server that cannot be reached is no reason not to start (tokens are refused until a
    /// fetch succeeds); a file that holds no usable set is.
    pub fn start(config: &JwksConfig) -> Result<Arc<Self>, String> {
        let set = Arc::new(Self {
            source: config.source.clone(),
            client: HttpClient::new(ClientOptions {
                timeout: SCHEDULED_TIMEOUT,
                max_body_bytes: MAX_SET_BYTES,
                allow_address: None,
            }),
            keys: RwLock::new(Arc::new(Keys::new())),
            last_on_demand: Mutex::new(None),
            fetching: Mutex::new(()),
        });
        if let Err(why) = set.refresh(SCHEDULED_TIMEOUT) {
            if let JwksSource::File(path) = &set.source {
                return Err(format!("JWT_JWKS_FILE {}: {why}", path.display()));
            }
            log::warn!("JWKS: the key set could not be fetched ({why}); tokens are refused until it can be");
        }
        let weak = Arc::downgrade(&set);
        let period = config.refresh;
        let spawned = std::thread::Builder::new()
            .name("jwks-refresh".into())
            .spawn(move || refresh_loop(&weak, period));
        if let Err(e) = spawned {
            log::warn!("JWKS: no refresh thread ({e}); keys are fetched on unknown `kid` only");
        }
        Ok(set)
    }

    /// The key named `kid`, if the set holds it.
    pub fn get(&self, kid: &str) -> Option<Key> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    fn is_loaded(&self) -> bool {
        self.keys.read().is_ok_and(|k| !k.is_empty())
    }

    /// Whether a token naming an unknown key may trigger a fetch now; claims the slot if so.
    pub fn claim_on_demand(&self) -> bool {
        let Ok(mut last) = self.last_on_demand.lock() else {
            return false;
        };
        if last.is_some_and(|at| at.elapsed() < ON_DEMAND_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Fetches the set and, when it is good, puts it in use; otherwise the last good set stays.
    /// Returns the number of usable keys.
    pub fn refresh(&self, timeout: Duration) -> Result<usize, String> {
        let _one_at_a_time = self.fetching.lock().map_err(|_| "poisoned".to_owned())?;
        let bytes = match &self.source {
            JwksSource::File(path) => {
                std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?
            }
            JwksSource::Url(url) => {
                let reply = self.client.get(url, timeout).map_err(|e| e.to_string())?;
                if reply.status != 200 {
                    return Err(format!("the server answered {}", reply.status));
                }
                reply.body
            }
        };
        let keys = parse(&bytes)?;
        let count = keys.len();
        if let Ok(mut current) = self.keys.write() {
            *current = Arc::new(keys);
        }
        log::debug!("JWKS: {count} key(s) in use");
        Ok(count)
    }
}

fn refresh_loop(set: &Weak<KeySet>, period: Duration) {
    loop {
        let wait = match set.upgrade() {
            Some(set) if !set.is_loaded() => RETRY_UNTIL_LOADED.min(period),
            Some(_) => period,
            None => return,
        };
        std::thread::sleep(wait);
        let Some(set) = set.upgrade() else { return };
        if let Err(why) = set.refresh(SCHEDULED_TIMEOUT) {
            log::warn!("JWKS: refresh failed ({why}); the last good key set stays in use");
        }
    }
}
