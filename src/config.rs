//! Configuration from the environment. Every variable `X` may also come as `X_FILE`, a path whose
//! contents are the value. All problems are reported together so that one failed start says it all.

use std::net::SocketAddr;
use std::time::Duration;

mod jwt;
mod narrow;
mod reader;
mod registers;
pub mod secret;
mod subject;
pub use crate::domain::acr::Acr;
use jwt::read_jwt_key;
pub use jwt::{JwksConfig, JwksSource, JwtKey, PublicKeyAlgorithm};
pub use narrow::{DatabaseSettings, SigningSettings};
use reader::Reader;
pub use reader::{ConfigError, Env, Source};
pub use registers::{PurposeEnforcement, RegisterSettings};
pub use secret::Secret;
pub use subject::{SubjectKeys, SubjectSettings};

/// When the service runs retention by itself.
#[derive(Debug, Clone, Copy)]
pub struct RetentionSchedule {
    /// `RETENTION_AUTORUN` (default true).
    pub enabled: bool,
    /// `RETENTION_RUN_AT`, Europe/Tallinn time (default 03:00).
    pub at: chrono::NaiveTime,
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
    /// The master keys of personal data at rest (`DATA_KEY`, `DATA_KEY_PREVIOUS`).
    pub data_keys: crate::at_rest::KeySettings,
    /// How long a request body may take to arrive (`REQUEST_BODY_TIMEOUT_S`).
    pub request_body_timeout: Duration,
    /// Each request's deadline for all its database work, pool wait included, and the
    /// statement timeout of every serving connection (`DB_STATEMENT_TIMEOUT_MS`).
    pub db_statement_timeout: Duration,
    /// Connections served at once, over all workers (`MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// When retention runs by itself (`RETENTION_AUTORUN`, `RETENTION_RUN_AT`).
    pub retention: RetentionSchedule,
    /// `WEBHOOK_ALLOW_PRIVATE`: webhooks may use `http` and any address (development, tests).
    pub webhook_allow_private: bool,
    /// The accountability registers' settings (`PURPOSE_ENFORCEMENT`, `ART14_ENFORCEMENT`,
    /// `CONTROLLER_NAME`, `CONTROLLER_REGISTRY_CODE`).
    pub registers: RegisterSettings,
    /// The data controller (`CONTROLLER_*`, `DATA_STORAGE_LOCATION`).
    pub controller: crate::controller::Controller,
    /// `NOTICE_OUTCOME_WORKING_DAYS`: a recipient's outcome is due this many working days after
    /// the notice was queued.
    pub notice_outcome_working_days: u32,
    /// `REQUIRE_VERIFIED_REQUESTS`: an erasure or restriction citing an unverified request is
    /// refused.
    pub require_verified_requests: bool,
    /// Persons' own tokens (`SUBJECT_*`).
    pub subject: SubjectSettings,
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
        let webhook_allow_private = r.flag("WEBHOOK_ALLOW_PRIVATE", false);
        let notice_outcome_working_days = r.number("NOTICE_OUTCOME_WORKING_DAYS", 10, 1..=60);
        let require_verified_requests = r.flag("REQUIRE_VERIFIED_REQUESTS", false);
        let (proofs, problems) = crate::proof_keys::KeySettings::read(&mut |name| r.raw(name));
        r.problems.extend(problems);
        let (data_keys, problems) = crate::at_rest::KeySettings::read(&mut |name| r.raw(name));
        r.problems.extend(problems);
        let (controller, problems) = crate::controller::Controller::read(&mut |name| r.raw(name));
        r.problems.extend(problems);
        let body_timeout_s = r.number("REQUEST_BODY_TIMEOUT_S", 10, 1..=3600);
        let statement_timeout_ms = r.number("DB_STATEMENT_TIMEOUT_MS", 5000, 100..=600_000);
        let max_connections = r.number("MAX_CONNECTIONS", 10_000, 1000..=1_000_000);
        let data_dir = r.data_dir();
        let registers = RegisterSettings::read(&mut r);
        let subject = SubjectSettings::read(&mut r, jwt_issuer.as_deref());
        let retention = RetentionSchedule {
            enabled: r.flag("RETENTION_AUTORUN", true),
            at: r.parsed_as(
                "RETENTION_RUN_AT",
                chrono::NaiveTime::MIN + chrono::Duration::hours(3),
                "a time of day such as 03:00 (Europe/Tallinn)",
                |v| chrono::NaiveTime::parse_from_str(v, "%H:%M").ok(),
            ),
        };
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
            data_keys,
            request_body_timeout: Duration::from_secs(body_timeout_s),
            db_statement_timeout: Duration::from_millis(statement_timeout_ms),
            max_connections,
            retention,
            webhook_allow_private,
            registers,
            controller,
            notice_outcome_working_days,
            require_verified_requests,
            subject,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
            ("RETENTION_AUTORUN", "sometimes"),
            ("RETENTION_RUN_AT", "3am"),
            ("NOTICE_OUTCOME_WORKING_DAYS", "61"),
            ("REQUIRE_VERIFIED_REQUESTS", "maybe"),
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
            "RETENTION_AUTORUN",
            "RETENTION_RUN_AT",
            "NOTICE_OUTCOME_WORKING_DAYS",
            "REQUIRE_VERIFIED_REQUESTS",
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
        assert!(config.retention.enabled);
        assert_eq!(config.retention.at.to_string(), "03:00:00");
        let later = Config::from_source(&source(&[
            ("RETENTION_RUN_AT", "22:15"),
            ("RETENTION_AUTORUN", "false"),
        ]))
        .unwrap();
        assert!(!later.retention.enabled);
        assert_eq!(later.retention.at.to_string(), "22:15:00");
    }
}
