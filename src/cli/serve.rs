//! `planpro-privacy serve` (the default): migrations, then the HTTP service.

use crate::auth::{self, Scope};
use crate::config::{Config, JwtKey};

/// Apply pending migrations, then serve the API (the default command).
///
/// Applies pending migrations (unless MIGRATE_ON_START=false), then serves the API until
/// SIGINT or SIGTERM, finishing requests in flight. With no DATABASE_URL it runs on an embedded
/// PostgreSQL cluster under DATA_DIR and prints a development token with every staff scope.
#[derive(Debug, Default, clap::Args)]
#[command(after_help = super::env::SERVE)]
pub struct ServeArgs {}

impl super::Run for ServeArgs {
    fn run(self) -> super::Outcome {
        let config = super::settings(Config::from_source)?;
        // Before the slow start-up work, so that a taken port is said at once.
        let listener = std::net::TcpListener::bind(config.bind_addr).map_err(|e| {
            format!(
                "cannot listen on {} (BIND_ADDR): {e}; stop what uses it, or set BIND_ADDR to another HOST:PORT",
                config.bind_addr
            )
        })?;
        let (key, dev_key) = match (&config.jwt_key, &config.database_url) {
            (Some(key), _) => (key.clone(), false),
            (None, _) => (JwtKey::Secret(super::dev_secret(&config.data_dir)?), true),
        };
        // Before migrating: an upgrade of a first-version database encrypts with it.
        config
            .data_keys
            .install(config.database_url.is_none(), &config.data_dir)?;
        let db = super::Database::open(config.database_url.as_ref(), &config.data_dir)?;
        if config.migrate_on_start {
            let applied = db.migrate()?;
            log::info!("migrations: {applied} applied");
        }
        if let (true, JwtKey::Secret(secret)) = (dev_key, &key) {
            let mut claims = auth::claims_for("developer", &Scope::all_staff(), None, 7 * 86_400);
            claims.iss = config.jwt_issuer.clone();
            claims.aud = config.jwt_audience.clone();
            let token = auth::sign(secret.expose(), &claims).map_err(|e| e.to_string())?;
            println!("development token (every staff scope, valid 7 days):\n{token}");
        }
        crate::server::run(&config, &db.url, &key, listener).map_err(|e| e.to_string())
    }
}
