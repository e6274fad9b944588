//! The few settings a command other than `serve` reads, so that a bad unrelated setting (a pool
//! size, a listening address) does not stop `migrate` or `token`.

use super::reader::{ConfigError, Reader, Source};
use super::secret::Secret;

/// What `migrate` and `rotate-data-key` read: where the database is, and the master keys.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `None` means: run on the embedded PostgreSQL under [`DatabaseSettings::data_dir`].
    pub database_url: Option<Secret>,
    pub data_dir: std::path::PathBuf,
    /// `DATA_KEY` and `DATA_KEY_PREVIOUS`.
    pub data_keys: crate::at_rest::KeySettings,
}

impl DatabaseSettings {
    /// Reads only `DATABASE_URL`, `DATA_DIR` and the master keys.
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let mut r = Reader {
            source,
            problems: Vec::new(),
        };
        let database_url = r.raw("DATABASE_URL").map(Secret::new);
        let data_dir = r.data_dir();
        let (data_keys, problems) = crate::at_rest::KeySettings::read(&mut |name| r.raw(name));
        r.problems.extend(problems);
        let settings = Self {
            database_url,
            data_dir,
            data_keys,
        };
        r.finish(settings)
    }
}

/// What `token` reads: the signing secret and the claims the service checks.
#[derive(Debug, Clone)]
pub struct SigningSettings {
    /// `None` without `JWT_SECRET`: the embedded mode's development secret signs, if allowed.
    pub secret: Option<Secret>,
    /// Set when tokens are checked with public keys, which cannot sign.
    pub public_keys: bool,
    /// Whether `DATABASE_URL` is set (then there is no development secret).
    pub external_database: bool,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub data_dir: std::path::PathBuf,
}

impl SigningSettings {
    /// Reads only the signing settings; a bad unrelated setting does not stop `token`.
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let mut r = Reader {
            source,
            problems: Vec::new(),
        };
        let secret = r.raw("JWT_SECRET");
        if secret.as_ref().is_some_and(|s| s.len() < 32) {
            r.problems
                .push("JWT_SECRET: must be at least 32 characters".to_owned());
        }
        let public_keys = PUBLIC_KEY_VARIABLES
            .iter()
            .any(|name| source.get(name).is_some_and(|v| !v.is_empty()));
        let settings = Self {
            secret: secret.map(Secret::new),
            public_keys,
            external_database: source.get("DATABASE_URL").is_some_and(|v| !v.is_empty())
                || source
                    .get("DATABASE_URL_FILE")
                    .is_some_and(|v| !v.is_empty()),
            jwt_issuer: r.raw("JWT_ISSUER"),
            jwt_audience: r.raw("JWT_AUDIENCE"),
            data_dir: r.data_dir(),
        };
        r.finish(settings)
    }
}

/// The variables that configure verification by public key (which `token` cannot sign with).
const PUBLIC_KEY_VARIABLES: [&str; 4] = [
    "JWT_PUBLIC_KEY_FILE",
    "JWT_PUBLIC_KEY",
    "JWT_JWKS_URL",
    "JWT_JWKS_FILE",
];
