//! Configuration from the environment. Every variable `X` may also come as `X_FILE`, a path whose
//! contents are the value. All problems are reported together so that one failed start says it all.

use jsonwebtoken::DecodingKey;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

mod jwt;
mod narrow;
use jwt::read_jwt_key;
pub use jwt::{JwksConfig, JwksSource};
pub use narrow::{DatabaseSettings, SigningSettings};

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

    /// A value `parse` accepts; a refused one is answered with the accepted form, `expected`.
    fn parsed_as<T>(
        &mut self,
        name: &str,
        default: T,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> T {
        match self.raw(name) {
            None => default,
            Some(v) => parse(v.trim()).unwrap_or_else(|| {
                self.problems.push(format!("{name}: expected {expected}"));
                default
            }),
        }
    }

    /// A whole number within `range`; the message names the range.
    fn number<T>(&mut self, name: &str, default: T, range: std::ops::RangeInclusive<T>) -> T
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        let expected = format!("a whole number from {} to {}", range.start(), range.end());
        self.parsed_as(name, default, &expected, |v| {
            v.parse().ok().filter(|n| range.contains(n))
        })
    }

    /// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    fn flag(&mut self, name: &str, default: bool) -> bool {
        self.parsed_as(name, default, "true or false", parse_bool)
    }

    /// The listening address: an IP address or a host name (resolved now), with a port.
    fn bind_addr(&mut self) -> SocketAddr {
        let default = SocketAddr::from(([127, 0, 0, 1], 8080));
        let Some(value) = self.raw("BIND_ADDR") else {
            return default;
        };
        match resolve_bind_addr(value.trim()) {
            Ok(addr) => addr,
            Err(problem) => {
                self.problems.push(format!("BIND_ADDR: {problem}"));
                default
            }
        }
    }

    /// Where the embedded cluster and development secrets live.
    fn data_dir(&mut self) -> std::path::PathBuf {
        self.raw("DATA_DIR")
            .unwrap_or_else(|| ".data".to_owned())
            .into()
    }

    fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError(self.problems))
        }
    }
}

/// `HOST:PORT`, the host an IP address (IPv6 in brackets) or a name that resolves.
fn resolve_bind_addr(value: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    const FORM: &str = "HOST:PORT, such as 127.0.0.1:8080, [::1]:8080 or localhost:8080";
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    let Some((host, port)) = value.rsplit_once(':') else {
        return Err(format!("expected {FORM}"));
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(format!(
            "expected {FORM}; the port is a number from 0 to 65535"
        ));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("expected {FORM}"));
    }
    let mut found = (host, port)
        .to_socket_addrs()
        .map_err(|_| format!("the host `{host}` does not resolve; expected {FORM}"))?;
    found
        .next()
        .ok_or_else(|| format!("the host `{host}` has no address; expected {FORM}"))
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
        let bind_addr = r.bind_addr();
        let jwt_key = read_jwt_key(&mut r);
        let jwt_issuer = r.raw("JWT_ISSUER");
        let jwt_audience = r.raw("JWT_AUDIENCE");
        let db_pool_size = r.number("DB_POOL_SIZE", 10, 1..=1000);
        let timeout_ms = r.number("DB_POOL_TIMEOUT_MS", 2000, 50..=60_000);
        let migrate_on_start = r.flag("MIGRATE_ON_START", true);
        let (proofs, problems) = crate::proof_keys::KeySettings::read(&mut |name| r.raw(name));
        r.problems.extend(problems);
        let body_timeout_s = r.number("REQUEST_BODY_TIMEOUT_S", 10, 1..=3600);
        let statement_timeout_ms = r.number("DB_STATEMENT_TIMEOUT_MS", 5000, 100..=600_000);
        let max_connections = r.number("MAX_CONNECTIONS", 10_000, 1000..=1_000_000);
        let data_dir = r.data_dir();
        if database_url.is_some()
            && jwt_key.is_none()
            && !r.problems.iter().any(|p| p.starts_with("JWT"))
        {
            r.problems.push(
                "JWT_SECRET, JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL: one is required when DATABASE_URL is set"
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
            .contains("JWT_SECRET, JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL"));
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
    fn a_refused_setting_names_what_is_accepted_and_a_host_name_binds() {
        let err = Config::from_source(&source(&[
            ("DB_POOL_SIZE", "0"),
            ("MIGRATE_ON_START", "maybe"),
            ("BIND_ADDR", "localhost"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("DB_POOL_SIZE: expected a whole number from 1 to 1000"),
            "{err}"
        );
        assert!(
            err.contains("MIGRATE_ON_START: expected true or false"),
            "{err}"
        );
        assert!(err.contains("BIND_ADDR: expected HOST:PORT"), "{err}");
        let config = Config::from_source(&source(&[("BIND_ADDR", "localhost:8080")])).unwrap();
        assert!(config.bind_addr.ip().is_loopback() && config.bind_addr.port() == 8080);
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
