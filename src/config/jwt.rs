//! How tokens are checked: one shared secret, one public key, or an identity provider's key set.
//! Exactly one of them; two at once is a start-up error, since which one wins would be a guess.

use super::reader::Reader;
use super::secret::Secret;
use jsonwebtoken::DecodingKey;
use std::path::PathBuf;
use std::time::Duration;

/// Where a key set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Fetched over HTTPS (or HTTP to a loopback address).
    Url(String),
    /// Read from a file, again at every refresh.
    File(PathBuf),
}

/// A key set and how often it is fetched again.
#[derive(Debug, Clone)]
pub struct JwksConfig {
    pub source: JwksSource,
    pub refresh: Duration,
}

/// Algorithms accepted for a public verification key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKeyAlgorithm {
    Rs256,
    Es256,
    EdDsa,
}

/// How tokens are verified.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 with a shared secret (which also lets `token` sign).
    Secret(Secret),
    /// A PEM public key for the named algorithm.
    PublicKey {
        pem: Vec<u8>,
        algorithm: PublicKeyAlgorithm,
    },
    /// An identity provider's key set: each token names its key by `kid`.
    Jwks(JwksConfig),
}

impl JwtKey {
    /// The key in the form the token library verifies with.
    pub fn decoding_key(&self) -> Result<DecodingKey, jsonwebtoken::errors::Error> {
        match self {
            JwtKey::Secret(secret) => Ok(DecodingKey::from_secret(secret.expose().as_bytes())),
            JwtKey::PublicKey { pem, algorithm } => match algorithm {
                PublicKeyAlgorithm::Rs256 => DecodingKey::from_rsa_pem(pem),
                PublicKeyAlgorithm::Es256 => DecodingKey::from_ec_pem(pem),
                PublicKeyAlgorithm::EdDsa => DecodingKey::from_ed_pem(pem),
            },
            // A key set holds many keys, each found by the token's `kid` (see `auth::jwks`).
            JwtKey::Jwks(_) => Err(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into()),
        }
    }
}

/// Reads the token-checking key, noting every problem.
pub(super) fn read_jwt_key(r: &mut Reader<'_>) -> Option<JwtKey> {
    let secret = r.raw("JWT_SECRET");
    let pem = read_pem(r);
    let jwks = read_jwks(r);
    let algorithm = r
        .raw("JWT_ALGORITHM")
        .map(|a| a.trim().to_ascii_uppercase());
    let chosen = [
        secret.is_some().then_some("JWT_SECRET"),
        pem.is_some().then_some("JWT_PUBLIC_KEY_FILE"),
        jwks.as_ref().map(|j| match j.source {
            JwksSource::Url(_) => "JWT_JWKS_URL",
            JwksSource::File(_) => "JWT_JWKS_FILE",
        }),
    ];
    let chosen: Vec<&str> = chosen.into_iter().flatten().collect();
    if chosen.len() > 1 {
        r.problems.push(format!(
            "{} are all set; set only one way of checking tokens",
            chosen.join(" and ")
        ));
        return None;
    }
    if let Some(jwks) = jwks {
        if algorithm.is_some() {
            r.problems.push(
                "JWT_ALGORITHM: not used with a key set, where each key states its algorithm"
                    .to_owned(),
            );
        }
        return Some(JwtKey::Jwks(jwks));
    }
    match (secret, pem) {
        (Some(secret), _) => {
            if algorithm.as_deref().is_some_and(|a| a != "HS256") {
                r.problems
                    .push("JWT_ALGORITHM: must be HS256 with JWT_SECRET".to_owned());
            }
            if secret.len() < 32 {
                r.problems
                    .push("JWT_SECRET: must be at least 32 characters".to_owned());
                return None;
            }
            Some(JwtKey::Secret(Secret::new(secret)))
        }
        (None, Some(pem)) => {
            let algorithm = match algorithm.as_deref().unwrap_or("RS256") {
                "RS256" => PublicKeyAlgorithm::Rs256,
                "ES256" => PublicKeyAlgorithm::Es256,
                "EDDSA" => PublicKeyAlgorithm::EdDsa,
                _ => {
                    r.problems.push(
                        "JWT_ALGORITHM: must be RS256, ES256 or EdDSA with a public key".to_owned(),
                    );
                    return None;
                }
            };
            let key = JwtKey::PublicKey { pem, algorithm };
            if let Err(e) = key.decoding_key() {
                r.problems
                    .push(format!("JWT_PUBLIC_KEY_FILE: not a usable public key: {e}"));
                return None;
            }
            Some(key)
        }
        (None, None) => None,
    }
}

/// The public key is always a file; JWT_PUBLIC_KEY (inline PEM) is accepted too.
fn read_pem(r: &mut Reader<'_>) -> Option<Vec<u8>> {
    match r
        .source
        .get("JWT_PUBLIC_KEY_FILE")
        .filter(|v| !v.is_empty())
    {
        Some(path) => match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                r.problems.push(format!(
                    "JWT_PUBLIC_KEY_FILE: cannot read the file it names: {e}"
                ));
                None
            }
        },
        None => r
            .source
            .get("JWT_PUBLIC_KEY")
            .filter(|v| !v.is_empty())
            .map(String::into_bytes),
    }
}

/// `JWT_JWKS_URL` or `JWT_JWKS_FILE` (a file read at every refresh, not once like other `_FILE`s).
fn read_jwks(r: &mut Reader<'_>) -> Option<JwksConfig> {
    read_key_set(r, "JWT")
}

/// `<PREFIX>_JWKS_URL` or `<PREFIX>_JWKS_FILE`, refreshed every `JWT_JWKS_REFRESH_S` (the subject
/// identity provider's set shares the staff one's pace).
pub(super) fn read_key_set(r: &mut Reader<'_>, prefix: &str) -> Option<JwksConfig> {
    let (url_var, file_var) = (format!("{prefix}_JWKS_URL"), format!("{prefix}_JWKS_FILE"));
    let url = r.raw(&url_var);
    // Not through `raw`: the file is the key set itself, read again at every refresh.
    let file = r.source.get(&file_var).filter(|v| !v.is_empty());
    let refresh = r.number("JWT_JWKS_REFRESH_S", 300, 10..=86_400);
    let source = match (url, file) {
        (Some(_), Some(_)) => {
            r.problems.push(format!(
                "{url_var} and {file_var} are both set; set only one"
            ));
            return None;
        }
        (Some(url), None) => match check_url(url.trim()) {
            Ok(()) => JwksSource::Url(url.trim().to_owned()),
            Err(problem) => {
                r.problems.push(format!("{url_var}: {problem}"));
                return None;
            }
        },
        (None, Some(path)) => {
            let path = PathBuf::from(path);
            // Its keys are read when the service starts (`auth::jwks`), which refuses a bad set.
            if let Err(e) = std::fs::metadata(&path) {
                r.problems
                    .push(format!("{file_var}: cannot read the file it names: {e}"));
                return None;
            }
            JwksSource::File(path)
        }
        (None, None) => return None,
    };
    Some(JwksConfig {
        source,
        refresh: Duration::from_secs(refresh),
    })
}

/// `https://…`, or `http://…` to a loopback address (a key set over plain HTTP elsewhere could
/// be replaced on the way, and with it every token's key).
fn check_url(url: &str) -> Result<(), String> {
    const FORM: &str = "expected an https:// URL, or http:// to 127.0.0.1, [::1] or localhost";
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("https://") {
        return (!rest.is_empty())
            .then_some(())
            .ok_or_else(|| FORM.to_owned());
    }
    let Some(rest) = lower.strip_prefix("http://") else {
        return Err(FORM.to_owned());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback.then_some(()).ok_or_else(|| FORM.to_owned())
}
