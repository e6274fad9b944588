//! Configuration from the environment. Every variable `X` may also come as `X_FILE`, a path whose
//! contents are the value. All problems are reported together so that one failed start says it all.

use jsonwebtoken::DecodingKey;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// A value that must never be printed or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
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
        }
    }
}

/// The service's whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None` means: run on the embedded PostgreSQL under `./.data/`.
    pub database_url: Option<Secret>,
    pub bind_addr: SocketAddr,
    /// `None` only when allowed: embedded mode generates a development secret.
    pub jwt_key: Option<JwtKey>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub db_pool_size: u32,
    pub db_pool_timeout: Duration,
    pub migrate_on_start: bool,
    pub data_dir: std::path::PathBuf,
    /// The keys and settings of the access log's proofs.
    pub proofs: crate::proof_keys::KeySettings,
    /// How long a request body may take to arrive (`REQUEST_BODY_TIMEOUT_S`).
    pub request_body_timeout: Duration,
    /// Each request's deadline for all its database work, pool wait included, and the
    /// statement timeout of every serving connection (`DB_STATEMENT_TIMEOUT_MS`).
    pub db_statement_timeout: Duration,
    /// Connections served at once, over all workers (`MAX_CONNECTIONS`).
    pub max_connections: usize,
}

/// Where variables are read from: the process environment, or a map in tests.
pub trait Source {
    /// The raw value of a variable, if set.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// A start-up failure naming every bad variable.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

struct Reader<'a> {
    source: &'a dyn Source,
    problems: Vec<String>,
}

impl Reader<'_> {
    /// `X` or the contents of the file named by `X_FILE`; both at once is an error.
    fn raw(&mut self, name: &str) -> Option<String> {
        let direct = self.source.get(name).filter(|v| !v.is_empty());
        let file_var = format!("{name}_FILE");
        let from_file = self.source.get(&file_var).filter(|v| !v.is_empty());
        match (direct, from_file) {
            (Some(_), Some(_)) => {
                self.problems
                    .push(format!("{name} and {file_var} are both set; set only one"));
                None
            }
            (Some(v), None) => Some(v),
            (None, Some(path)) => match std::fs::read_to_string(&path) {
                Ok(contents) => Some(contents.trim_end_matches(['\n', '\r']).to_owned()),
                Err(e) => {
                    self.problems
                        .push(format!("{file_var}: cannot read the file it names: {e}"));
                    None
                }
            },
            (None, None) => None,
        }
    }

    fn parsed<T>(&mut self, name: &str, default: T, parse: impl Fn(&str) -> Option<T>) -> T {
        match self.raw(name) {
            None => default,
            Some(v) => parse(v.trim()).unwrap_or_else(|| {
                self.problems.push(format!("{name}: invalid value"));
                default
            }),
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&Env)
    }

    /// Reads any source; every problem is collected before failing.
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let mut r = Reader {
            source,
            problems: Vec::new(),
        };
        let database_url = r.raw("DATABASE_URL").map(Secret::new);
        let bind_addr = r.parsed("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)), |v| {
            v.parse().ok()
        });
        let jwt_key = read_jwt_key(&mut r);
        let jwt_issuer = r.raw("JWT_ISSUER");
        let jwt_audience = r.raw("JWT_AUDIENCE");
        let db_pool_size = r.parsed("DB_POOL_SIZE", 10, |v| {
            v.parse().ok().filter(|n| (1..=1000).contains(n))
        });
        let timeout_ms = r.parsed("DB_POOL_TIMEOUT_MS", 2000, |v| {
            v.parse().ok().filter(|n| (50..=60_000).contains(n))
        });
        let migrate_on_start = r.parsed("MIGRATE_ON_START", true, parse_bool);
        let (proofs, problems) = crate::proof_keys::KeySettings::read(&mut |name| r.raw(name));
        r.problems.extend(problems);
        let body_timeout_s = r.parsed("REQUEST_BODY_TIMEOUT_S", 10, |v| {
            v.parse().ok().filter(|n| (1..=3600).contains(n))
        });
        let statement_timeout_ms = r.parsed("DB_STATEMENT_TIMEOUT_MS", 5000, |v| {
            v.parse().ok().filter(|n| (100..=600_000).contains(n))
        });
        let max_connections = r.parsed("MAX_CONNECTIONS", 10_000, |v| {
            v.parse().ok().filter(|n| (1000..=1_000_000).contains(n))
        });
        let data_dir = r
            .raw("DATA_DIR")
            .unwrap_or_else(|| ".data".to_owned())
            .into();
        if database_url.is_some()
            && jwt_key.is_none()
            && !r.problems.iter().any(|p| p.starts_with("JWT"))
        {
            r.problems.push(
                "JWT_SECRET or JWT_PUBLIC_KEY_FILE: one is required when DATABASE_URL is set"
                    .to_owned(),
            );
        }
        if !r.problems.is_empty() {
            return Err(ConfigError(r.problems));
        }
        Ok(Self {
            database_url,
            bind_addr,
            jwt_key,
            jwt_issuer,
            jwt_audience,
            db_pool_size,
            db_pool_timeout: Duration::from_millis(timeout_ms),
            migrate_on_start,
            data_dir,
            proofs,
            request_body_timeout: Duration::from_secs(body_timeout_s),
            db_statement_timeout: Duration::from_millis(statement_timeout_ms),
            max_connections,
        })
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn read_jwt_key(r: &mut Reader<'_>) -> Option<JwtKey> {
    let secret = r.raw("JWT_SECRET");
    // The public key is always a file; JWT_PUBLIC_KEY (inline PEM) is accepted too.
    let pem = match r
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
    };
    let algorithm = r
        .raw("JWT_ALGORITHM")
        .map(|a| a.trim().to_ascii_uppercase());
    match (secret, pem) {
        (Some(_), Some(_)) => {
            r.problems
                .push("JWT_SECRET and JWT_PUBLIC_KEY_FILE are both set; choose one".to_owned());
            None
        }
        (Some(secret), None) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_bad_variable_is_named_at_once() {
        let err = Config::from_source(&source(&[
            ("DATABASE_URL", "postgres://x"),
            ("BIND_ADDR", "nowhere"),
            ("DB_POOL_SIZE", "zero"),
            ("JWT_SECRET", "short"),
            ("REQUEST_BODY_TIMEOUT_S", "0"),
            ("DB_STATEMENT_TIMEOUT_MS", "10"),
            ("MAX_CONNECTIONS", "999"),
        ]))
        .unwrap_err()
        .to_string();
        for name in [
            "BIND_ADDR",
            "DB_POOL_SIZE",
            "JWT_SECRET",
            "REQUEST_BODY_TIMEOUT_S",
            "DB_STATEMENT_TIMEOUT_MS",
            "MAX_CONNECTIONS",
        ] {
            assert!(err.contains(name), "{name} missing from {err}");
        }
        assert!(!err.contains("short"), "a secret was printed: {err}");
    }

    #[test]
    fn database_url_without_a_key_is_refused() {
        let err = Config::from_source(&source(&[("DATABASE_URL", "postgres://x")])).unwrap_err();
        assert!(err
            .to_string()
            .contains("JWT_SECRET or JWT_PUBLIC_KEY_FILE"));
    }

    #[test]
    fn file_variants_are_read_and_trimmed() {
        let dir = std::env::temp_dir().join(format!("cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
        let config = Config::from_source(&source(&[
            ("DATABASE_URL", "postgres://x"),
            ("JWT_SECRET_FILE", path.to_str().unwrap()),
        ]))
        .unwrap();
        match config.jwt_key {
            Some(JwtKey::Secret(s)) => assert_eq!(s.expose(), "0123456789abcdef0123456789abcdef"),
            other => panic!("unexpected key {other:?}"),
        }
        assert!(!format!("{:?}", config.database_url).contains("postgres"));
    }

    #[test]
    fn embedded_mode_needs_no_variables() {
        let config = Config::from_source(&source(&[])).unwrap();
        assert!(config.database_url.is_none() && config.jwt_key.is_none());
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.request_body_timeout, Duration::from_secs(10));
        assert_eq!(config.db_statement_timeout, Duration::from_millis(5000));
        assert!(config.max_connections >= 1000);
    }
}
