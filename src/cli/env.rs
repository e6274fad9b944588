//! The environment variables each command reads, as its `--help` lists them. Keep these in step
//! with `config.rs` and the README's configuration table.

/// Read by `serve`.
pub const SERVE: &str = "\
Environment (any X may instead be given as X_FILE, a path whose contents are the value):
  DATABASE_URL          PostgreSQL URL; unset: an embedded cluster under DATA_DIR
  BIND_ADDR             HOST:PORT to listen on, a host name or IP [default: 127.0.0.1:8080]
  JWT_SECRET            HS256 secret, at least 32 characters (a development secret when unset
                        in embedded mode)
  JWT_PUBLIC_KEY_FILE   PEM public key for RS256, ES256 or EdDSA tokens, instead of JWT_SECRET
  JWT_ALGORITHM         RS256, ES256 or EdDSA with a public key [default: RS256]
  JWT_JWKS_URL          an identity provider's key set (https, or http to loopback), instead
                        of JWT_SECRET or a public key; JWT_JWKS_FILE reads the set from a file
  JWT_JWKS_REFRESH_S    seconds between fetches of the key set, 10 to 86400 [default: 300]
  JWT_ISSUER            when set, tokens must carry this `iss`
  JWT_AUDIENCE          when set, tokens must carry this `aud`
  DB_POOL_SIZE          database connections, 1 to 1000 [default: 10]
  DB_POOL_TIMEOUT_MS    longest wait for a connection, 50 to 60000 [default: 2000]
  DB_STATEMENT_TIMEOUT_MS
                        one deadline for a request's database work, 100 to 600000
                        [default: 5000]
  REQUEST_BODY_TIMEOUT_S
                        seconds a request body may take to arrive, 1 to 3600 [default: 10]
  MAX_CONNECTIONS       connections accepted at once, 1000 to 1000000 [default: 10000]
  MIGRATE_ON_START      true or false: apply migrations first [default: true]
  DATA_KEY              master key of personal data at rest (and of webhook secrets): 32
                        random bytes, base64 (required with DATABASE_URL; generated under
                        DATA_DIR when unset in embedded mode)
  DATA_KEY_PREVIOUS     during a rotation: the master key being replaced
  ACCESS_LOG_KEY        HMAC key of access-log entries: 32 random bytes, base64 (required
                        with DATABASE_URL; generated under DATA_DIR when unset in embedded mode)
  CHECKPOINT_SIGNING_KEY
                        Ed25519 private key, PKCS#8 PEM, signing the access-log checkpoints
                        (usually CHECKPOINT_SIGNING_KEY_FILE; required with DATABASE_URL)
  CHECKPOINT_ORIGIN     the checkpoints' origin line [default: planpro-privacy/access-log]
  CHECKPOINT_INTERVAL_MS
                        least time between two checkpoints, 50 to 10000 [default: 5000]
  RECEIPT_SIGNING_KEY   Ed25519 private key, PKCS#8 PEM, signing consent receipts (usually
                        RECEIPT_SIGNING_KEY_FILE; required with DATABASE_URL)
  CONTROLLER_NAME       the data controller named in receipts [default: PlanPro OÜ]
  CONTROLLER_REGISTRY_CODE
                        its registry code, 8 digits with a right check digit [default: none]
  CONTROLLER_ADDRESS    its address [default: none]
  CONTROLLER_EMAIL      its e-mail address [default: info@planpro.ee]
  CONTROLLER_POLICY_URL the https address of its privacy policy (receipts' policyUrl)
                        [default: none]
  DATA_STORAGE_LOCATION country code of where the data are kept (receipts' storageLocation)
                        [default: EE]
  AUTHORITY_NAME        the supervisory authority access responses name for complaints
                        [default: Andmekaitse Inspektsioon]
  AUTHORITY_ADDRESS     its address [default: Tatari 39, 10134 Tallinn]
  AUTHORITY_EMAIL       its e-mail address [default: info@aki.ee]
  AUTHORITY_URL         its https web address [default: https://www.aki.ee]
  RETENTION_AUTORUN     true or false: run retention by itself once a day [default: true]
  RETENTION_RUN_AT      HH:MM, Europe/Tallinn time, of the daily retention run [default: 03:00]
  DATA_DIR              embedded cluster and development secrets [default: .data]
  WEBHOOK_ALLOW_PRIVATE true or false: webhooks may use http and non-public addresses
                        (development and tests only) [default: false]
  NOTICE_OUTCOME_WORKING_DAYS
                        working days a recipient has to report a notice's outcome, 1 to 60
                        [default: 10]
  REQUIRE_VERIFIED_REQUESTS
                        true or false: an erasure or restriction citing an unverified privacy
                        request is refused [default: false]
  PURPOSE_ENFORCEMENT   off, warn or strict: staff reads must name an active processing
                        activity in X-Access-Purpose [default: off]
  ART14_ENFORCEMENT     off or block (read; blocking is not built yet) [default: off]
  EMBEDDED_PG_USER      under root: the account running the embedded cluster [default: postgres]
  RUST_LOG              log filter, env_logger syntax [default: info]";

/// Read by `migrate`.
pub const MIGRATE: &str = "\
Environment (any X may instead be given as X_FILE, a path whose contents are the value):
  DATABASE_URL          PostgreSQL URL; unset: the embedded cluster under DATA_DIR
  DATA_KEY              master key; needed to upgrade a first-version database with data
  DATA_DIR              embedded cluster and its generated DATA_KEY [default: .data]
  EMBEDDED_PG_USER      under root: the account running the embedded cluster [default: postgres]
  RUST_LOG              log filter, env_logger syntax [default: info]";

/// Read by `rotate-data-key`.
pub const ROTATE: &str = "\
Environment (any X may instead be given as X_FILE, a path whose contents are the value):
  DATABASE_URL          PostgreSQL URL; unset: the embedded cluster under DATA_DIR
  DATA_KEY              the new master key: 32 random bytes, base64
  DATA_KEY_PREVIOUS     the master key being replaced
  DATA_DIR              embedded cluster [default: .data]
  EMBEDDED_PG_USER      under root: the account running the embedded cluster [default: postgres]
  RUST_LOG              log filter, env_logger syntax [default: info]

Steps: restart every instance with the new DATA_KEY and the old one as DATA_KEY_PREVIOUS, run
this command (again if interrupted) until it reports nothing left, then drop DATA_KEY_PREVIOUS.";

/// Read by `token`.
pub const TOKEN: &str = "\
Environment (any X may instead be given as X_FILE, a path whose contents are the value):
  JWT_SECRET            the HS256 secret to sign with
  DATABASE_URL          only whether it is set: without it and without JWT_SECRET, the
                        development secret under DATA_DIR signs (made on first use)
  DATA_DIR              where the development secret lives [default: .data]
  JWT_ISSUER            copied into the token's `iss`
  JWT_AUDIENCE          copied into the token's `aud`
  JWT_PUBLIC_KEY_FILE, JWT_JWKS_URL, JWT_JWKS_FILE
                        only whether one is set: such a service checks tokens it cannot sign

Example:
  planpro-privacy token --sub you@planpro.ee --scope \"subjects:read subjects:write\" --ttl 8h";

#[cfg(test)]
mod tests {
    use crate::config::{Config, Source};
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    /// A production-like environment that records every variable the configuration asks for.
    struct Recording(RefCell<BTreeSet<String>>);

    impl Source for Recording {
        fn get(&self, name: &str) -> Option<String> {
            self.0.borrow_mut().insert(name.to_owned());
            (name == "DATABASE_URL").then(|| "postgres://planpro@db/planpro".to_owned())
        }
    }

    #[test]
    fn serve_help_lists_every_variable_the_configuration_reads() {
        let source = Recording(RefCell::new(BTreeSet::new()));
        let _ = Config::from_source(&source);
        let asked = source.0.into_inner();
        assert!(asked.len() > 20, "{asked:?}");
        let listed = |name: &str| {
            super::SERVE
                .split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .any(|word| word == name)
        };
        // `X_FILE`, asked for along with every `X`, is the help's general rule.
        let variants = |name: &String| {
            name.strip_suffix("_FILE")
                .is_some_and(|base| asked.contains(base))
        };
        let missing: Vec<&String> = asked
            .iter()
            .filter(|name| !variants(name))
            .filter(|name| !listed(name) && !listed(&format!("{name}_FILE")))
            .collect();
        assert!(missing.is_empty(), "serve --help omits {missing:?}");
    }
}
