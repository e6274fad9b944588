//! `planpro-privacy rotate-data-key`: re-wraps every key under a new master key while the
//! service keeps serving (its instances must already run with the new DATA_KEY and the old one
//! as DATA_KEY_PREVIOUS, so that they open keys wrapped by either).

use crate::config::DatabaseSettings;

/// Re-wrap every data key under DATA_KEY (rotation of the master key).
///
/// Opens each subject's data key and the service keys with DATA_KEY_PREVIOUS and wraps them again
/// under DATA_KEY, in batches, while the service serves. Run it after every instance has been
/// restarted with the new DATA_KEY and the old one as DATA_KEY_PREVIOUS; once it reports nothing
/// left, DATA_KEY_PREVIOUS can go. Running it again continues where it stopped.
#[derive(Debug, clap::Args)]
#[command(after_help = super::env::ROTATE)]
pub struct RotateArgs {}

impl super::Run for RotateArgs {
    fn run(self) -> super::Outcome {
        let settings = super::settings(DatabaseSettings::from_source)?;
        let ring = settings
            .data_keys
            .resolve(settings.database_url.is_none(), &settings.data_dir)?;
        if ring.previous.is_none() {
            return Err("DATA_KEY_PREVIOUS (or DATA_KEY_PREVIOUS_FILE): required: the master key being replaced".into());
        }
        let db = super::Database::open(settings.database_url.as_ref(), &settings.data_dir)?;
        let mut conn =
            crate::db::connect(&db.url).map_err(|_| "cannot connect to the database".to_owned())?;
        if !crate::db::migrations_current(&mut conn) {
            return Err("the database is not migrated: run `planpro-privacy migrate` first".into());
        }
        let done = crate::at_rest::rotate::rotate(&mut conn, &ring)
            .map_err(crate::at_rest::upgrade::describe)?;
        let left = crate::at_rest::rotate::remaining(&mut conn, &ring)
            .map_err(|e| format!("cannot count the keys left: {e}"))?;
        println!(
            "re-wrapped {} subject key(s) and {} service key(s); {left} left under another master key",
            done.subject_keys, done.service_keys
        );
        Ok(())
    }
}
