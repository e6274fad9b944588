//! `planpro-privacy accept-rollback`: an operator's signed acceptance that the access log went
//! back ([`crate::access_log::rollback`]).

use crate::access_log::{rollback, sealing::Proofs};
use crate::config::Config;

/// Accept that the access log went back, so that checkpoint signing resumes.
///
/// When the database no longer extends the newest checkpoint (a restore from backup, a failover
/// to a standby that missed commits, rows removed), every instance stops signing and raises an
/// ALARM. After finding out what was lost, state it: N must be the number of entries the log's
/// tree holds now (the command refuses any other N and names the right one). This signs a
/// rollback statement (old and new tree sizes and roots, the reason, the time) under the
/// checkpoint key, starts a new epoch of checkpoints from the tree as it is, and appends an
/// `access_log.rollback` entry. Reads the environment `serve` reads, with the same DATA_DIR.
#[derive(Debug, clap::Args)]
#[command(after_help = super::env::SERVE)]
pub struct AcceptRollbackArgs {
    /// The number of entries the log's tree holds now.
    #[arg(long, value_name = "N")]
    size: u64,
    /// Why the rollback is accepted (1-500 characters; kept in the signed statement).
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

impl super::Run for AcceptRollbackArgs {
    fn run(self) -> super::Outcome {
        rollback::check_reason(&self.reason)?;
        let config = super::settings(Config::from_source)?;
        config
            .data_keys
            .install(config.database_url.is_none(), &config.data_dir)?;
        let proofs = Proofs::start(&config).map_err(|e| e.to_string())?;
        let db = super::Database::open(config.database_url.as_ref(), &config.data_dir)?;
        let mut conn =
            crate::db::connect(&db.url).map_err(|_| "cannot connect to the database".to_owned())?;
        if !crate::db::migrations_current(&mut conn) {
            return Err("the database is not migrated: run `planpro-privacy migrate` first".into());
        }
        let accepted = rollback::accept(&mut conn, &proofs, self.size, &self.reason)?;
        println!(
            "rollback accepted (epoch {}): from the checkpoint of {} entries to the log of {} entries; signing resumes\n{}",
            accepted.epoch, accepted.old_size, accepted.new_size, accepted.statement
        );
        Ok(())
    }
}
