//! `planpro-privacy audit`: the options of the outside auditor's check ([`crate::audit`]).

/// Check the access log against the last checkpoint kept: exit 0 consistent, 1 not, 2 error.
///
/// Fetches the latest signed checkpoint, verifies its signature against the pinned key (--key, or
/// the one kept in the state folder from the first run) and its consistency with the checkpoint
/// kept there, then keeps the new one. Reads no environment variable.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The service's base URL, e.g. `https://privacy.planpro.ee`.
    #[arg(long, value_name = "URL")]
    url: String,
    /// A file holding a bearer token with `access-logs:checkpoint` (or `access-logs:read`).
    #[arg(long, value_name = "FILE")]
    token_file: String,
    /// The folder that keeps the pinned key and the last checkpoint (write-once storage is best).
    #[arg(long, value_name = "DIR")]
    state: String,
    /// The verifier key to pin (from /v1/access-logs/checkpoint-key, obtained out of band).
    #[arg(long, value_name = "VKEY")]
    key: Option<String>,
    /// Exit 0 when a signed rollback statement covers the inconsistency found (it is reported
    /// either way).
    #[arg(long)]
    accept_rollbacks: bool,
}

impl AuditArgs {
    /// Runs the audit; its exit code says consistent (0), not (1) or could not check (2).
    pub fn exit(self) -> std::process::ExitCode {
        let mut args = vec![
            "--url".to_owned(),
            self.url,
            "--token-file".to_owned(),
            self.token_file,
            "--state".to_owned(),
            self.state,
        ];
        if let Some(key) = self.key {
            args.extend(["--key".to_owned(), key]);
        }
        if self.accept_rollbacks {
            args.push("--accept-rollbacks".to_owned());
        }
        crate::audit::main(&args)
    }
}
