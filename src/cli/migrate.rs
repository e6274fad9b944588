//! `planpro-privacy migrate`: applies pending migrations and exits.

use crate::config::DatabaseSettings;

/// Apply pending migrations and exit.
///
/// Applies pending migrations under a PostgreSQL advisory lock (so several instances may run it
/// at once) and exits. A database of the first version is upgraded in place: its personal data
/// is encrypted under DATA_KEY before the clear columns are dropped. With no DATABASE_URL it
/// works on the embedded cluster under DATA_DIR.
#[derive(Debug, clap::Args)]
#[command(after_help = super::env::MIGRATE)]
pub struct MigrateArgs {
    /// Stop before the migration of this version (such as 2026-12-01-220000): a schema of an
    /// older version, to load data as that version wrote it (the benchmarks do) before upgrading.
    #[arg(long, value_name = "VERSION")]
    before: Option<String>,
}

impl super::Run for MigrateArgs {
    fn run(self) -> super::Outcome {
        let settings = super::settings(DatabaseSettings::from_source)?;
        // The key is needed only to encrypt rows of a first-version database still in clear.
        let embedded = settings.database_url.is_none();
        if embedded || settings.data_keys.is_set() {
            settings.data_keys.install(embedded, &settings.data_dir)?;
        }
        let db = super::Database::open(settings.database_url.as_ref(), &settings.data_dir)?;
        let applied = db.migrate_before(self.before.as_deref())?;
        println!("applied {applied} migration(s)");
        Ok(())
    }
}
