//! `planpro-privacy migrate`: applies pending migrations and exits.

use crate::config::DatabaseSettings;

/// Apply pending migrations and exit.
///
/// Applies pending migrations under a PostgreSQL advisory lock (so several instances may run it
/// at once) and exits. With no DATABASE_URL it works on the embedded cluster under DATA_DIR.
#[derive(Debug, clap::Args)]
#[command(after_help = super::env::MIGRATE)]
pub struct MigrateArgs {}

impl super::Run for MigrateArgs {
    fn run(self) -> super::Outcome {
        let settings = super::settings(DatabaseSettings::from_source)?;
        let db = super::Database::open(settings.database_url.as_ref(), &settings.data_dir)?;
        let applied = db.migrate()?;
        println!("applied {applied} migration(s)");
        Ok(())
    }
}
