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
