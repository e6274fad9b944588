//! `planpro-privacy audit`: the daily compliance check an outside auditor runs against the
//! service. It fetches the latest checkpoint, checks its signature against the pinned key, proves
//! it consistent with the checkpoint kept from the previous run, and keeps the new one. So the
//! auditor's folder, not the service's database, is what a rewritten log would have to match.
//!
//! Exit codes: 0 consistent, 1 not (with what failed), 2 a usage or network error.

use crate::access_log::checkpoint::{self, Checkpoint, VerifierKey};
use crate::access_log::merkle::{self, Hash};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::path::{Path, PathBuf};
use std::time::Duration;

const USAGE: &str =
    "usage: planpro-privacy audit --url URL --token-file FILE --state DIR [--key VKEY] [--accept-rollbacks]";

/// How an audit ended.
#[derive(Debug)]
pub enum Failure {
    /// The log is not what it was: exit 1.
    Inconsistent(String),
    /// The audit could not be made: exit 2.
    Usage(String),
}

impl Failure {
    /// The process exit code.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Inconsistent(_) => 1,
            Failure::Usage(_) => 2,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Inconsistent(why) => write!(f, "NOT CONSISTENT: {why}"),
            Failure::Usage(why) => write!(f, "{why}"),
        }
    }
}

struct Options {
    url: String,
    token: String,
    state: PathBuf,
    key: Option<String>,
    accept_rollbacks: bool,
}

fn usage(why: impl Into<String>) -> Failure {
    Failure::Usage(format!("{}\n{USAGE}", why.into()))
}

fn options(args: &[String]) -> Result<Options, Failure> {
    let (mut url, mut token_file, mut state, mut key) = (None, None, None, None);
    let mut accept_rollbacks = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--accept-rollbacks" {
            accept_rollbacks = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| usage(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--url" => url = Some(value.trim_end_matches('/').to_owned()),
            "--token-file" => token_file = Some(value.clone()),
            "--state" => state = Some(PathBuf::from(value)),
            "--key" => key = Some(value.clone()),
            _ => return Err(usage(format!("unknown option `{flag}`"))),
        }
    }
    let mut missing: Vec<&str> = Vec::new();
    if url.is_none() {
        missing.push("--url");
    }
    if token_file.is_none() {
        missing.push("--token-file");
    }
    if state.is_none() {
        missing.push("--state");
    }
    let (Some(url), Some(token_file), Some(state)) = (url, token_file, state) else {
        return Err(usage(format!("{} required", missing.join(", "))));
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(usage("--url must be an http(s) URL"));
    }
    let token = std::fs::read_to_string(&token_file)
        .map_err(|e| usage(format!("cannot read the token file {token_file}: {e}")))?
        .trim()
        .to_owned();
    Ok(Options {
        url,
        token,
        state,
        key,
        accept_rollbacks,
    })
}

/// GET `path` of the service; the body of a 200, else a usage failure naming the answer.
fn fetch(opts: &Options, path: &str, token: bool) -> Result<(u16, String), Failure> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", opts.url);
    let mut request = agent.get(&url);
    if token {
        request = request.header("Authorization", format!("Bearer {}", opts.token));
    }
    let mut res = request
        .call()
        .map_err(|e| Failure::Usage(format!("cannot reach {url}: {e}")))?;
    let status = res.status().as_u16();
    let body = res
        .body_mut()
        .read_to_string()
        .map_err(|e| Failure::Usage(format!("cannot read the answer of {url}: {e}")))?;
    Ok((status, body))
}

fn ok_body(opts: &Options, path: &str, token: bool) -> Result<String, Failure> {
    match fetch(opts, path, token)? {
        (200, body) => Ok(body),
        (status, body) => Err(Failure::Usage(format!(
            "GET {path} answered {status}: {}",
            body.chars().take(300).collect::<String>()
        ))),
    }
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))
}

/// The pinned key: `--key`, or the one kept from the first run (fetched and kept then).
fn pinned_key(opts: &Options) -> Result<(VerifierKey, String), Failure> {
    let kept = opts.state.join("key");
    let text = match (&opts.key, std::fs::read_to_string(&kept)) {
        (Some(key), _) => key.trim().to_owned(),
        (None, Ok(existing)) => existing.trim().to_owned(),
        (None, Err(_)) => {
            let key = ok_body(opts, "/v1/access-logs/checkpoint-key", false)?;
            let key = key.trim().to_owned();
            write(&kept, &format!("{key}\n"))?;
            println!(
                "first run: pinned the service's key {key} in {}",
                kept.display()
            );
            key
        }
    };
    let key = VerifierKey::parse(&text).map_err(|e| usage(format!("bad verifier key: {e}")))?;
    Ok((key, text))
}

fn signed(note: &str, key: &VerifierKey, what: &str) -> Result<Checkpoint, Failure> {
    let cp = checkpoint::parse(note)
        .map_err(|e| Failure::Inconsistent(format!("{what} is not a checkpoint: {e}")))?;
    if cp.origin != key.name {
        return Err(Failure::Inconsistent(format!(
            "{what} has origin `{}`, the pinned key is for `{}`",
            cp.origin, key.name
        )));
    }
    if !key.verifies(&cp) {
        return Err(Failure::Inconsistent(format!(
            "{what} (size {}) carries no valid signature by the pinned key",
            cp.size
        )));
    }
    Ok(cp)
}

fn hashes(body: &str) -> Result<Vec<Hash>, Failure> {
    let bad = || Failure::Inconsistent("the consistency proof is malformed".into());
    let value: serde_json::Value = serde_json::from_str(body).map_err(|_| bad())?;
    value["hashes"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| B64.decode(s).ok())
                .and_then(|b| Hash::try_from(b).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// Runs one audit; the message to print on success.
pub fn audit(args: &[String]) -> Result<String, Failure> {
    let opts = options(args)?;
    std::fs::create_dir_all(&opts.state)
        .map_err(|e| usage(format!("cannot create {}: {e}", opts.state.display())))?;
    let (key, _) = pinned_key(&opts)?;
    let note = ok_body(&opts, "/v1/access-logs/checkpoint", true)?;
    let new = signed(&note, &key, "the service's checkpoint")?;
    let kept_path = opts.state.join("checkpoint");
    let message = match std::fs::read_to_string(&kept_path) {
        Err(_) => format!("first checkpoint kept: {} entries", new.size),
        Ok(kept) => {
            let old = signed(&kept, &key, "the kept checkpoint")?;
            match consistent(&opts, &old, &new) {
                Err(Failure::Inconsistent(why)) => covered(&opts, &key, &old, &new, why)?,
                other => other?,
            }
        }
    };
    write(&kept_path, &note)?;
    Ok(message)
}

fn consistent(opts: &Options, old: &Checkpoint, new: &Checkpoint) -> Result<String, Failure> {
    if new.size < old.size {
        return Err(Failure::Inconsistent(format!(
            "the log shrank from {} to {} entries",
            old.size, new.size
        )));
    }
    if new.size == old.size {
        return if new.root == old.root {
            Ok(format!("consistent: unchanged at {} entries", new.size))
        } else {
            Err(Failure::Inconsistent(format!(
                "two different trees of {} entries were signed",
                new.size
            )))
        };
    }
    let path = format!(
        "/v1/access-logs/consistency-proof?from={}&to={}",
        old.size, new.size
    );
    let body = match fetch(opts, &path, true)? {
        (200, body) => body,
        (400, body) => {
            return Err(Failure::Inconsistent(format!(
                "the service cannot prove {} → {} (it no longer knows the kept checkpoint): {}",
                old.size,
                new.size,
                body.chars().take(300).collect::<String>()
            )))
        }
        (status, body) => {
            return Err(Failure::Usage(format!(
                "GET {path} answered {status}: {}",
                body.chars().take(300).collect::<String>()
            )))
        }
    };
    let proof = hashes(&body)?;
    if !merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof) {
        return Err(Failure::Inconsistent(format!(
            "the tree of {} entries is not a prefix of the tree of {}: entries were changed or removed",
            old.size, new.size
        )));
    }
    Ok(format!(
        "consistent: the log grew from {} to {} entries",
        old.size, new.size
    ))
}

/// An inconsistency a signed rollback statement covers: a statement made from at least the kept
/// checkpoint's size, whose new tree the service's checkpoint extends. Reported, and still a
/// failure unless `--accept-rollbacks`.
fn covered(
    opts: &Options,
    key: &VerifierKey,
    old: &Checkpoint,
    new: &Checkpoint,
    why: String,
) -> Result<String, Failure> {
    use crate::access_log::rollback;
    let body = ok_body(opts, "/v1/access-logs/rollbacks", true)?;
    let value: serde_json::Value = serde_json::from_str(&body)
        .map_err(|_| Failure::Usage("the rollback statements are malformed".into()))?;
    let statements = value["items"].as_array().cloned().unwrap_or_default();
    let found = statements.iter().rev().find_map(|item| {
        let note = item["statement"].as_str()?;
        let (old_size, _, new_size, new_root) = rollback::parse_statement(note)?;
        let extends = rollback::signed_by(note, key)
            && old_size >= old.size
            && new.size >= new_size
            && statement_extended(opts, new_size, &new_root, new).ok()?;
        extends.then(|| {
            format!(
                "the rollback statement of {} covers it: the log went back from {old_size} to {new_size} entries (reason: {})",
                item["at"].as_str().unwrap_or("?"),
                item["reason"].as_str().unwrap_or("")
            )
        })
    });
    let Some(statement) = found else {
        return Err(Failure::Inconsistent(why));
    };
    if opts.accept_rollbacks {
        Ok(format!("{why}; {statement}; accepted (--accept-rollbacks)"))
    } else {
        Err(Failure::Inconsistent(format!(
            "{why}; {statement}; run with --accept-rollbacks to accept it"
        )))
    }
}

/// True when the service's checkpoint extends the tree a statement accepted.
fn statement_extended(
    opts: &Options,
    size: u64,
    root: &Hash,
    new: &Checkpoint,
) -> Result<bool, Failure> {
    if size == new.size {
        return Ok(*root == new.root);
    }
    let path = format!(
        "/v1/access-logs/consistency-proof?from={size}&to={}",
        new.size
    );
    let body = ok_body(opts, &path, true)?;
    let proof = hashes(&body)?;
    Ok(merkle::verify_consistency(
        size, new.size, root, &new.root, &proof,
    ))
}

/// The command's entry point: prints the outcome and gives the exit code.
pub fn main(args: &[String]) -> std::process::ExitCode {
    match audit(args) {
        Ok(message) => {
            println!("{message}");
            std::process::ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("planpro-privacy audit: {failure}");
            std::process::ExitCode::from(failure.code())
        }
    }
}
