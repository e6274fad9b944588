//! `planpro-privacy audit` against the real binary serving on loopback: consistent runs, a
//! forked tree, a wrong pinned key, usage and network errors, each with its exit code.

use crate::harness::{signing_keys, token_for, TestDb};
use crate::process::{http, Server};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use planpro_privacy::access_log::checkpoint::{self, Signer};
use planpro_privacy::auth::Scope;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_planpro-privacy");

fn audit(server: &Server, token: &Path, state: &Path, extra: &[&str]) -> (i32, String) {
    let url = format!("http://{}", server.addr);
    let out = Command::new(BIN)
        .args(["audit", "--url", &url, "--token-file"])
        .arg(token)
        .arg("--state")
        .arg(state)
        .args(extra)
        .env_clear()
        .output()
        .expect("run audit");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Makes a few entries through the API and waits until a checkpoint holds them all.
fn grow(server: &Server, db: &TestDb) {
    let token = token_for("clerk", &[Scope::AccessLogsRead], None);
    for _ in 0..3 {
        let (status, _) = http(
            server.addr,
            "GET",
            "/v1/access-logs?limit=1",
            &[("Authorization", &format!("Bearer {token}"))],
            "",
        );
        assert_eq!(status, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let covered = db.scalar(
            "SELECT coalesce((SELECT max(size) FROM access_log_checkpoint), 0) >= (SELECT count(*) FROM access_log)",
        );
        if covered == "true" {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no checkpoint covered the log");
}

#[test]
fn audit_checks_signatures_and_consistency_with_exit_codes() {
    let db = TestDb::new();
    let server = Server::start(&db);
    let dir = crate::harness::scratch("audit");
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(
        &token,
        token_for("auditor", &[Scope::AccessLogsCheckpoint], None),
    )
    .unwrap();
    let state = dir.join("state");

    grow(&server, &db);
    let (code, text) = audit(&server, &token, &state, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("pinned") && text.contains("first checkpoint kept"),
        "{text}"
    );
    grow(&server, &db);
    let (code, text) = audit(&server, &token, &state, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("consistent: the log grew"), "{text}");

    // A wrong pinned key: the signature does not verify.
    let other = Signer::new(
        ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        checkpoint::DEFAULT_ORIGIN,
    );
    let (code, text) = audit(&server, &token, &state, &["--key", &other.verifier_key()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("no valid signature"), "{text}");

    // A kept checkpoint of a different tree, signed with the service's own key: a fork.
    let kept =
        checkpoint::parse(&std::fs::read_to_string(state.join("checkpoint")).unwrap()).unwrap();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&signing_keys().0).unwrap();
    let forged = Signer::new(key, checkpoint::DEFAULT_ORIGIN).sign(kept.size - 1, &[7; 32]);
    std::fs::write(state.join("checkpoint"), forged).unwrap();
    grow(&server, &db);
    let (code, text) = audit(&server, &token, &state, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("NOT CONSISTENT"), "{text}");

    // Usage and network errors.
    let (code, text) = audit(&server, &token, &state, &["--bogus", "x"]);
    assert_eq!(code, 2, "{text}");
    let out = Command::new(BIN)
        .args(["audit", "--url", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token-file"));
    let out = Command::new(BIN)
        .args(["audit", "--url", "http://127.0.0.1:1", "--token-file"])
        .arg(&token)
        .arg("--state")
        .arg(dir.join("elsewhere"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}
