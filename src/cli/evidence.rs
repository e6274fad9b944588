//! `planpro-privacy evidence`: fetches a person's evidence bundle, checks it as `verify-bundle`
//! does, and only then writes it.

use super::verify_bundle::{describe, pins};
use crate::bundle_check::{self, Failure};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// The largest bundle fetched.
const MAX_BUNDLE_BYTES: u64 = 1 << 30;

/// Fetch a person's evidence bundle, check it, write it: exit 0 written, 1 check failed, 2 error.
///
/// GETs /v1/evidence-bundle?subject_id=ID with the bearer token in --token-file (it needs
/// `subjects:read` and `access-logs:read`), checks the zip as `verify-bundle` does (against
/// --key and --jwks when given), and writes it to --out with mode 0600, never over an existing
/// file. A bundle that fails the check is not written. Reads no environment variable.
#[derive(Debug, clap::Args)]
pub struct EvidenceArgs {
    /// The service's base URL, e.g. `https://privacy.planpro.ee`.
    #[arg(long, value_name = "URL")]
    url: String,
    /// A file holding a bearer token with `subjects:read` and `access-logs:read`.
    #[arg(long, value_name = "FILE")]
    token_file: String,
    /// The subject's id.
    #[arg(long, value_name = "ID")]
    subject: uuid::Uuid,
    /// Where to write the bundle (a new file).
    #[arg(long, value_name = "FILE")]
    out: String,
    /// The checkpoints' verifier key to pin, as for `verify-bundle`.
    #[arg(long, value_name = "VKEY")]
    key: Option<String>,
    /// A file holding the receipt keys to pin, as for `verify-bundle`.
    #[arg(long, value_name = "FILE")]
    jwks: Option<String>,
}

fn usage(why: impl std::fmt::Display) -> ExitCode {
    eprintln!("planpro-privacy evidence: {why}");
    ExitCode::from(2)
}

/// GETs the bundle; its bytes, or why not.
fn fetch(url: &str, token: &str, subject: uuid::Uuid) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!(
        "{}/v1/evidence-bundle?subject_id={subject}",
        url.trim_end_matches('/')
    );
    let mut res = agent
        .get(&url)
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = res.status().as_u16();
    let body = res
        .body_mut()
        .with_config()
        .limit(MAX_BUNDLE_BYTES)
        .read_to_vec()
        .map_err(|e| format!("cannot read the answer of {url}: {e}"))?;
    if status != 200 {
        let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        return Err(format!("GET {url} answered {status}: {text}"));
    }
    Ok(body)
}

/// Writes `bytes` to a new file with mode 0600.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
        // A half-written bundle is no bundle.
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

impl EvidenceArgs {
    /// Runs the command; its exit code says written (0), check failed (1) or error (2).
    pub fn exit(self) -> ExitCode {
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return usage("--url must be an http(s) URL");
        }
        let out = Path::new(&self.out);
        if out.symlink_metadata().is_ok() {
            return usage(format!("{} exists: it is never written over", self.out));
        }
        let pins = match pins(self.key, self.jwks.as_deref()) {
            Ok(pins) => pins,
            Err(why) => return usage(why),
        };
        let token = match std::fs::read_to_string(&self.token_file) {
            Ok(token) => token.trim().to_owned(),
            Err(e) => {
                return usage(format!(
                    "cannot read the token file {}: {e}",
                    self.token_file
                ))
            }
        };
        let zip = match fetch(&self.url, &token, self.subject) {
            Ok(zip) => zip,
            Err(why) => return usage(why),
        };
        let report = match bundle_check::check(&zip, &pins) {
            Ok(report) => report,
            Err(Failure::Tampered(t)) => {
                eprintln!("planpro-privacy evidence: TAMPERED: {t}; nothing written");
                return ExitCode::from(1);
            }
            Err(Failure::Usage(why)) => return usage(why),
        };
        if let Err(e) = write_new(out, &zip) {
            return usage(format!("cannot write {}: {e}", self.out));
        }
        println!("{}\nwritten: {}", describe(&report), self.out);
        ExitCode::SUCCESS
    }
}
