//! `planpro-privacy verify-bundle`: the offline check of an evidence bundle
//! ([`crate::bundle_check`]), with its exit codes.

use crate::bundle_check::{self, Failure, Pins, Report};
use std::process::ExitCode;

/// Check an evidence bundle offline: exit 0 intact, 1 tampered (naming the first bad file), 2 usage.
///
/// Checks each file's SHA-256 and size against the signed manifest, that no file is missing or
/// extra, the manifest's and every receipt's signature (against --jwks, else the bundle's
/// jwks.json), each access-log entry's leaf hash and inclusion proof, and the checkpoint's
/// signature (against --key, else the bundle's checkpoint-key.txt). Without both keys pinned it
/// prints `keys not pinned`: the bundle then vouches for itself only. Reads no environment
/// variable and makes no network call.
#[derive(Debug, clap::Args)]
pub struct VerifyBundleArgs {
    /// The bundle (a zip from GET /v1/evidence-bundle or `planpro-privacy evidence`).
    #[arg(value_name = "FILE")]
    file: String,
    /// The checkpoints' verifier key to pin (from /v1/access-logs/checkpoint-key, obtained out of
    /// band).
    #[arg(long, value_name = "VKEY")]
    key: Option<String>,
    /// A file holding the receipt keys to pin (from /.well-known/jwks.json, obtained out of band).
    #[arg(long, value_name = "FILE")]
    jwks: Option<String>,
}

/// The pins given on a command line: the key as given, the key set read from its file.
pub fn pins(key: Option<String>, jwks: Option<&str>) -> Result<Pins, String> {
    let jwks = jwks
        .map(|path| std::fs::read(path).map_err(|e| format!("cannot read --jwks {path}: {e}")))
        .transpose()?;
    Ok(Pins {
        checkpoint_key: key,
        jwks,
    })
}

/// Checks `zip` and says how it went: the exit code, with the outcome printed.
pub fn judge(zip: &[u8], pins: &Pins, command: &str) -> ExitCode {
    match bundle_check::check(zip, pins) {
        Ok(report) => {
            println!("{}", describe(&report));
            ExitCode::SUCCESS
        }
        Err(Failure::Tampered(t)) => {
            eprintln!("planpro-privacy {command}: TAMPERED: {t}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(why)) => {
            eprintln!("planpro-privacy {command}: {why}");
            ExitCode::from(2)
        }
    }
}

/// The report of a good bundle, with the warning when it vouches for itself.
pub fn describe(r: &Report) -> String {
    let mut text = format!(
        "intact: {} files about subject {}: {} access-log entries ({} proved against the signed \
         checkpoint of {} entries, {} not yet checkpointed), {} signed receipts",
        r.files, r.subject_id, r.entries, r.proved, r.tree_size, r.pending, r.receipts
    );
    if !r.pinned {
        text.push_str(
            "\nkeys not pinned: checked against the bundle's own keys; pass --key and --jwks \
             obtained apart from it to know who signed it",
        );
    }
    text
}

impl VerifyBundleArgs {
    /// Runs the check; its exit code says intact (0), tampered (1) or could not check (2).
    pub fn exit(self) -> ExitCode {
        let pins = match pins(self.key, self.jwks.as_deref()) {
            Ok(pins) => pins,
            Err(why) => {
                eprintln!("planpro-privacy verify-bundle: {why}");
                return ExitCode::from(2);
            }
        };
        match std::fs::read(&self.file) {
            Ok(zip) => judge(&zip, &pins, "verify-bundle"),
            Err(e) => {
                eprintln!(
                    "planpro-privacy verify-bundle: cannot read {}: {e}",
                    self.file
                );
                ExitCode::from(2)
            }
        }
    }
}
