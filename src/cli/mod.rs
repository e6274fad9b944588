//! The commands of the `planpro-privacy` binary, one file each, so that `main.rs` only lists them.
//! What `serve` and `migrate` share lives here: finding the database (the embedded cluster when
//! no `DATABASE_URL` is set) and applying migrations.

pub mod accept_rollback;
pub mod audit;
pub mod env;
pub mod evidence;
pub mod migrate;
pub mod openapi;
pub mod rotate;
pub mod serve;
pub mod token;
pub mod verify_bundle;

use crate::config::{Secret, Source};
use crate::db::embedded::{EmbeddedPostgres, Options, SERVICE_REMEDY};
use std::path::Path;

/// What each command returns: an error is printed as one message and exits with status 2.
pub type Outcome = Result<(), String>;

/// A command of the binary: its parsed options, run once.
pub trait Run {
    /// Does the command's work.
    fn run(self) -> Outcome;
}

/// A database to work on: an external one, or the embedded cluster started for this process.
pub struct Database {
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// The database at `url`, or with none the embedded cluster under `data_dir`.
    pub fn open(url: Option<&Secret>, data_dir: &Path) -> Result<Self, String> {
        if let Some(url) = url {
            return Ok(Self {
                url: url.expose().to_owned(),
                embedded: None,
            });
        }
        let pg = EmbeddedPostgres::start(&Options {
            root: data_dir.join("postgres"),
            durable: true,
            remedy: SERVICE_REMEDY,
        })?;
        if let Err(e) = pg.ensure_database("planpro") {
            pg.stop();
            return Err(e);
        }
        log::info!("embedded PostgreSQL running in {}", pg.root().display());
        Ok(Self {
            url: pg.url("planpro"),
            embedded: Some(pg),
        })
    }

    /// Applies pending migrations; the number applied.
    pub fn migrate(&self) -> Result<usize, String> {
        self.migrate_before(None)
    }

    /// Applies pending migrations older than `before` (all without it); the number applied.
    pub fn migrate_before(&self, before: Option<&str>) -> Result<usize, String> {
        let mut conn = crate::db::connect(&self.url)
            .map_err(|_| "cannot connect to the database".to_owned())?;
        crate::db::migrate_before(&mut conn, before).map_err(|e| {
            let e = e.to_string();
            match (&self.embedded, e.contains("no master key opens")) {
                (Some(pg), true) => format!(
                    "migration failed: {e}: the embedded database in {} was made with another DATA_KEY (an earlier data-key file); to start afresh, stop the service and remove {} together with the data directory",
                    pg.root().display(),
                    pg.root().display()
                ),
                (None, true) => format!(
                    "migration failed: {e}: the database in DATABASE_URL was made with another DATA_KEY; set DATA_KEY (or DATA_KEY_PREVIOUS) to the key that made it"
                ),
                _ => format!("migration failed: {e}"),
            }
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(pg) = &self.embedded {
            log::info!("stopping the embedded PostgreSQL");
            pg.stop();
        }
    }
}

/// The development secret kept in the data directory (made on first use), for embedded mode only.
pub fn dev_secret(data_dir: &Path) -> Result<Secret, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(Secret::new(existing.trim()));
    }
    let hint = "set DATA_DIR to a directory you can write, or set DATABASE_URL and JWT_SECRET";
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}; {hint}", data_dir.display()))?;
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot write {}: {e}; {hint}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}; {hint}", path.display()))?;
    Ok(Secret::new(secret))
}

/// Reads settings from the process environment, as one message naming every bad variable.
pub fn settings<T>(
    read: impl FnOnce(&dyn Source) -> Result<T, crate::config::ConfigError>,
) -> Result<T, String> {
    read(&crate::config::Env).map_err(|e| e.to_string().trim_end().to_owned())
}
