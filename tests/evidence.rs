//! The evidence bundle (contract v3, section B): what it holds, `verify-bundle` (the real binary)
//! passing it and naming the first bad file of every kind, extra and missing files and wrong
//! pinned keys, an erased person's ids-only bundle, the scopes and `subject_id`, and the
//! checker's independence from the writer.

use crate::access_response::{create, person, recipient};
use crate::harness::{scratch, staff, token_for, Resp, TestApp};
use actix_web::test::TestRequest;
use planpro_privacy::access_log::checkpoint::{Signer, DEFAULT_ORIGIN};
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_planpro-privacy");

/// A person with consent events (so receipts), an authorization, a disclosure and reads, every
/// entry in a signed checkpoint.
pub async fn person_with_history(app: &TestApp) -> String {
    let id = create(app, person()).await;
    for status in ["granted", "withdrawn"] {
        app.call(
            actix_web::http::Method::PUT,
            &format!("/v1/subjects/{id}/consents/marketing_partners"),
            &crate::harness::staff(),
            Some(json!({"status": status, "method": "web_form", "evidence": "form 7"})),
        )
        .await
        .assert_status(200);
    }
    let to = recipient(app, "Tartu Linnavalitsus", "75006546").await;
    app.post(
        &format!("/v1/subjects/{id}/disclosure-authorizations"),
        json!({"recipient_id": to, "legal_basis": "legal_obligation",
               "legal_reference": "PlanS § 10", "data_categories": ["identity"],
               "purpose": "detailed plan"}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/v1/subjects/{id}/disclosures"),
        json!({"recipient_id": to, "data_categories": ["identity"], "channel": "email"}),
    )
    .await
    .assert_status(201);
    app.get(&format!("/v1/subjects/{id}"))
        .await
        .assert_status(200);
    app.wait_for_checkpoint().await;
    id
}

async fn bundle_of(app: &TestApp, id: &str) -> Resp {
    app.get(&format!("/v1/evidence-bundle?subject_id={id}"))
        .await
}

/// The files of a zip, in their order.
pub fn unpack(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            assert!(!file.is_dir(), "a directory entry: {}", file.name());
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            (file.name().to_owned(), bytes)
        })
        .collect()
}

/// A zip of these files.
pub fn pack(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Runs the binary with `args`; (exit code, stdout and stderr).
pub fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_clear()
        .output()
        .expect("run the binary");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `verify-bundle` on these bytes, with extra arguments.
fn verify(dir: &Path, zip: &[u8], extra: &[&str]) -> (i32, String) {
    let path = write(dir, &format!("{}.zip", Uuid::now_v7()), zip);
    let mut args = vec!["verify-bundle", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

/// The keys a verifier obtains apart from the bundle, as `verify-bundle` arguments.
async fn pins(app: &TestApp, dir: &Path) -> Vec<String> {
    let key = app.get("/v1/access-logs/checkpoint-key").await;
    let jwks = app.get("/.well-known/jwks.json").await;
    let jwks = write(dir, "jwks.json", &jwks.body);
    vec![
        "--key".into(),
        String::from_utf8(key.body).unwrap().trim().to_owned(),
        "--jwks".into(),
        jwks.to_str().unwrap().to_owned(),
    ]
}

fn flipped(files: &[(String, Vec<u8>)], name: &str) -> Vec<u8> {
    let mut files = files.to_vec();
    let (_, bytes) = files.iter_mut().find(|(n, _)| n == name).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    pack(&files)
}

#[actix_web::test]
async fn a_bundle_verifies_offline_and_every_tampered_file_is_named() {
    let app = TestApp::spawn().await;
    let id = person_with_history(&app).await;
    let res = bundle_of(&app, &id).await;
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/zip")
    );
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let files = unpack(&res.body);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(&names[..2], ["manifest.json", "manifest.jws"]);
    for required in [
        "subject.json",
        "consent_events.json",
        "authorizations.json",
        "disclosures.json",
        "notifications.json",
        "information_notices.json",
        "access_log.ndjson",
        "pending.json",
        "checkpoint.txt",
        "checkpoint-key.txt",
        "jwks.json",
    ] {
        assert!(
            names.contains(&required),
            "{required} missing from {names:?}"
        );
    }
    let receipts: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with("receipts/"))
        .collect();
    assert_eq!(receipts.len(), 2, "{names:?}");
    let manifest: Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(manifest["format"], "planpro-evidence/1");
    assert_eq!(manifest["subject_id"], id.as_str());
    assert_eq!(manifest["files"].as_array().unwrap().len(), files.len() - 2);
    let content = |name: &str| files.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let subject: Value = serde_json::from_slice(&content("subject.json")).unwrap();
    assert_eq!(subject["family_name"], "Maasikas");
    let log = String::from_utf8(content("access_log.ndjson")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 6 && lines.iter().all(|e| e["subject_id"] == id.as_str()));
    assert!(
        lines.iter().all(|e| e["actor"] == "tester"),
        "actors are included"
    );
    let proofs = names.iter().filter(|n| n.starts_with("proofs/")).count();
    let pending: Vec<Value> = serde_json::from_slice(&content("pending.json")).unwrap();
    assert_eq!(proofs + pending.len(), lines.len());
    assert!(proofs >= 6, "{proofs} proofs");
    // Its own entry is written, and not inside.
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'evidence.read' AND subject_id = '{id}' \
             AND outcome = 'allowed' AND actor = 'tester'"
        )),
        1
    );
    assert!(!log.contains("evidence.read"));
    // A generated client that reads only application/octet-stream as a file gets the same bytes.
    let octets = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/evidence-bundle?subject_id={id}"))
                .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
                .insert_header(("Accept", "application/octet-stream")),
        )
        .await;
    octets.assert_status(200);
    assert_eq!(
        octets.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(unpack(&octets.body).len(), unpack(&res.body).len());

    let dir = scratch("evidence");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, text) = verify(&dir, &res.body, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("intact") && text.contains("keys not pinned"),
        "{text}"
    );
    let pins = pins(&app, &dir).await;
    let pinned: Vec<&str> = pins.iter().map(String::as_str).collect();
    let (code, text) = verify(&dir, &res.body, &pinned);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("keys not pinned"), "{text}");

    // A byte flipped in each kind of file: exit 1, naming it.
    let first = |prefix: &str| {
        names
            .iter()
            .find(|n| n.starts_with(prefix))
            .unwrap()
            .to_string()
    };
    for name in [
        "manifest.json".to_owned(),
        "manifest.jws".to_owned(),
        first("receipts/"),
        "access_log.ndjson".to_owned(),
        first("proofs/"),
        "checkpoint.txt".to_owned(),
        "checkpoint-key.txt".to_owned(),
        "jwks.json".to_owned(),
        "subject.json".to_owned(),
        "consent_events.json".to_owned(),
        "disclosures.json".to_owned(),
        "pending.json".to_owned(),
    ] {
        for args in [&[][..], &pinned[..]] {
            let (code, text) = verify(&dir, &flipped(&files, &name), args);
            assert_eq!(code, 1, "{name} {args:?}: {text}");
            assert!(
                text.contains(&format!("TAMPERED: {name}: ")),
                "{name} {args:?}: {text}"
            );
        }
    }
    // An extra file, and a missing one.
    let mut extra = files.clone();
    extra.push(("notes.txt".into(), b"added later".to_vec()));
    let (code, text) = verify(&dir, &pack(&extra), &pinned);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("TAMPERED: notes.txt: extra"), "{text}");
    let missing: Vec<_> = files
        .iter()
        .filter(|(n, _)| *n != receipts[0])
        .cloned()
        .collect();
    let (code, text) = verify(&dir, &pack(&missing), &pinned);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("TAMPERED: {}: missing", receipts[0])),
        "{text}"
    );
    let mut directory = files.clone();
    directory.insert(2, ("receipts/".into(), Vec::new()));
    let (code, text) = verify(&dir, &pack(&directory), &pinned);
    assert_eq!(code, 1, "{text}");

    // Wrong pinned keys.
    let other = Signer::new(
        ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        DEFAULT_ORIGIN,
    );
    let (code, text) = verify(&dir, &res.body, &["--key", &other.verifier_key()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("TAMPERED: checkpoint.txt: "), "{text}");
    let strange = write(
        &dir,
        "other-jwks.json",
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "other", "use": "sig",
                         "alg": "EdDSA", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})
        .to_string()
        .as_bytes(),
    );
    let (code, text) = verify(&dir, &res.body, &["--jwks", strange.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("TAMPERED: manifest.jws: "), "{text}");

    // Usage errors.
    assert_eq!(
        run(&["verify-bundle", dir.join("none.zip").to_str().unwrap()]).0,
        2
    );
    assert_eq!(verify(&dir, &res.body, &["--key", "not a key"]).0, 2);
    assert_eq!(run(&["verify-bundle"]).0, 2);
    let (code, text) = verify(&dir, b"not a zip", &[]);
    assert_eq!(code, 1, "{text}");
}

#[actix_web::test]
async fn an_erased_person_s_bundle_holds_ids_only_and_verifies() {
    let app = TestApp::spawn().await;
    let id = person_with_history(&app).await;
    app.post(
        &format!("/v1/subjects/{id}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);
    app.wait_for_checkpoint().await;
    let res = bundle_of(&app, &id).await;
    res.assert_status(200);
    let files = unpack(&res.body);
    assert!(files.iter().all(|(n, _)| !n.starts_with("receipts/")));
    let subject: Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "subject.json").unwrap().1)
            .unwrap();
    let keys: Vec<&String> = subject.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["erased_at", "id"]);
    for name in [
        "consent_events.json",
        "authorizations.json",
        "disclosures.json",
    ] {
        let list: Value =
            serde_json::from_slice(&files.iter().find(|(n, _)| n == name).unwrap().1).unwrap();
        let list = list.as_array().unwrap();
        assert!(!list.is_empty(), "{name}");
        assert!(
            list.iter()
                .all(|item| item.as_object().unwrap().keys().eq(["id"])),
            "{name}"
        );
    }
    for (name, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("Maasikas") && !text.contains("mari@example.ee"),
            "{name}"
        );
    }
    let dir = scratch("evidence-erased");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, text) = verify(&dir, &res.body, &[]);
    assert_eq!(code, 0, "{text}");
}

#[actix_web::test]
async fn both_scopes_a_good_subject_id_and_a_known_subject_are_needed() {
    let app = TestApp::spawn().await;
    let id = create(&app, person()).await;
    app.wait_for_checkpoint().await;
    let get = |query: String, scopes: Vec<Scope>| {
        let app = &app;
        async move {
            app.send(
                TestRequest::get()
                    .uri(&format!("/v1/evidence-bundle{query}"))
                    .insert_header((
                        "Authorization",
                        format!("Bearer {}", token_for("clerk", &scopes, None)),
                    )),
            )
            .await
        }
    };
    let about = format!("?subject_id={id}");
    get(about.clone(), vec![Scope::SubjectsRead])
        .await
        .assert_missing_scope("access-logs:read");
    get(about.clone(), vec![Scope::AccessLogsRead])
        .await
        .assert_missing_scope("subjects:read");
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'evidence.read' AND outcome = 'denied' \
             AND subject_id = '{id}'"
        )),
        2
    );
    let both = vec![Scope::SubjectsRead, Scope::AccessLogsRead];
    for (query, fields) in [
        (String::new(), vec!["subject_id"]),
        ("?subject_id=nope".to_owned(), vec!["subject_id"]),
        (format!("?subject_id={id}&size=3"), vec!["size"]),
    ] {
        let res = get(query.clone(), both.clone()).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{query}");
    }
    get(format!("?subject_id={}", Uuid::now_v7()), both.clone())
        .await
        .assert_problem(404, "not-found");
    get(about, both).await.assert_status(200);
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE action = 'evidence.read' AND outcome = 'allowed'"
        ),
        1
    );
}

/// The checker is a module of its own: it names nothing else of the crate, so it cannot lean on
/// the writer's hashing, tree or signed-note code.
#[test]
fn the_checker_imports_nothing_from_the_service() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bundle_check");
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let code = std::fs::read_to_string(&path).unwrap();
        assert!(
            !code.contains("crate::")
                && !code.contains("super::super")
                && !code.contains("planpro_privacy"),
            "{} reaches outside the checker",
            path.display()
        );
        read += 1;
    }
    assert!(read >= 5);
}

/// Waits until a signed checkpoint holds every entry.
fn checkpointed(db: &crate::harness::TestDb) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        let covered = db.scalar(
            "SELECT coalesce((SELECT max(size) FROM access_log_checkpoint), 0) >= \
             (SELECT count(*) FROM access_log)",
        );
        if covered == "true" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no checkpoint covered the log");
}

#[test]
fn the_evidence_command_fetches_checks_and_writes_a_new_private_file() {
    use crate::process::{http, Server};
    use std::os::unix::fs::PermissionsExt;
    let db = crate::harness::TestDb::new();
    let server = Server::start(&db);
    let staff = format!(
        "Bearer {}",
        token_for("clerk", &crate::harness::staff(), None)
    );
    let (status, text) = http(
        server.addr,
        "POST",
        "/v1/subjects",
        &[
            ("Authorization", &staff),
            ("Content-Type", "application/json"),
        ],
        &person().to_string(),
    );
    assert_eq!(status, 201, "{text}");
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let id = serde_json::from_str::<Value>(body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = http(
        server.addr,
        "PUT",
        &format!("/v1/subjects/{id}/consents/marketing_partners"),
        &[
            ("Authorization", &staff),
            ("Content-Type", "application/json"),
        ],
        r#"{"status": "granted", "method": "web_form", "evidence": "form 7"}"#,
    );
    assert_eq!(status, 200);
    checkpointed(&db);

    let dir = scratch("evidence-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let token = write(
        &dir,
        "token",
        token_for(
            "auditor",
            &[Scope::SubjectsRead, Scope::AccessLogsRead],
            None,
        )
        .as_bytes(),
    );
    let url = format!("http://{}", server.addr);
    let evidence = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "evidence",
            "--url",
            &url,
            "--token-file",
            token.to_str().unwrap(),
            "--subject",
            &id,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let out = dir.join("bundle.zip");
    let (code, text) = evidence(&out, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("intact") && text.contains("written"),
        "{text}"
    );
    let written = std::fs::read(&out).unwrap();
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(unpack(&written)
        .iter()
        .any(|(n, _)| n.starts_with("receipts/")));
    assert_eq!(verify(&dir, &written, &[]).0, 0);
    // Never over a file.
    let (code, text) = evidence(&out, &[]);
    assert_eq!(code, 2, "{text}");
    assert_eq!(std::fs::read(&out).unwrap(), written);
    // A check that fails writes nothing.
    let other = Signer::new(
        ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        DEFAULT_ORIGIN,
    );
    let refused = dir.join("refused.zip");
    let (code, text) = evidence(&refused, &["--key", &other.verifier_key()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("TAMPERED: checkpoint.txt"), "{text}");
    assert!(!refused.exists());
    // The service's refusals and no service at all are errors.
    let (code, text) = run(&[
        "evidence",
        "--url",
        &url,
        "--token-file",
        token.to_str().unwrap(),
        "--subject",
        &Uuid::now_v7().to_string(),
        "--out",
        dir.join("unknown.zip").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("404"), "{text}");
    let (code, text) = run(&[
        "evidence",
        "--url",
        "http://127.0.0.1:1",
        "--token-file",
        token.to_str().unwrap(),
        "--subject",
        &id,
        "--out",
        dir.join("nowhere.zip").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("cannot reach"), "{text}");
    assert_eq!(run(&["evidence", "--url", &url]).0, 2);
}

/// The bundle re-listed and re-signed with the service's own receipt key, as an insider who holds
/// the key could: the hashes and the signature then agree, and only the proofs can tell.
fn resigned(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    use sha2::{Digest, Sha256};
    let key = planpro_privacy::receipts::ReceiptKey::new(
        ed25519_dalek::SigningKey::from_pkcs8_pem(&crate::harness::signing_keys().1).unwrap(),
    );
    let mut manifest: Value = serde_json::from_slice(&files[0].1).unwrap();
    manifest["files"] = files[2..]
        .iter()
        .map(|(path, bytes)| {
            let sha: String = Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            json!({"path": path, "sha256": sha, "bytes": bytes.len()})
        })
        .collect();
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap();
    let signature = key.attached("evidence-manifest+jws", &manifest);
    let mut out = vec![
        ("manifest.json".to_owned(), manifest),
        ("manifest.jws".to_owned(), signature.into_bytes()),
    ];
    out.extend(files[2..].iter().cloned());
    pack(&out)
}

#[actix_web::test]
async fn a_bundle_re_signed_by_the_key_holder_is_still_caught_by_its_proofs() {
    let app = TestApp::spawn().await;
    let id = person_with_history(&app).await;
    let res = bundle_of(&app, &id).await;
    res.assert_status(200);
    let files = unpack(&res.body);
    let dir = scratch("evidence-resigned");
    std::fs::create_dir_all(&dir).unwrap();
    // Re-signing what was there changes nothing.
    let (code, text) = verify(&dir, &resigned(&files), &[]);
    assert_eq!(code, 0, "{text}");
    let proof_name = files
        .iter()
        .map(|(n, _)| n.clone())
        .find(|n| n.starts_with("proofs/"))
        .unwrap();
    let entry_id = proof_name
        .trim_start_matches("proofs/")
        .trim_end_matches(".json")
        .to_owned();
    let edit = |name: &str, change: &dyn Fn(Vec<u8>) -> Vec<u8>| {
        let mut files = files.clone();
        let (_, bytes) = files.iter_mut().find(|(n, _)| n == name).unwrap();
        *bytes = change(bytes.clone());
        resigned(&files)
    };
    // A proof with a wrong hash.
    let zip = edit(&proof_name, &|bytes| {
        let mut proof: Value = serde_json::from_slice(&bytes).unwrap();
        proof["hashes"][0] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        serde_json::to_vec(&proof).unwrap()
    });
    let (code, text) = verify(&dir, &zip, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("TAMPERED: {proof_name}: it does not lead")),
        "{text}"
    );
    // An entry changed in the log and in its proof alike: its leaf no longer leads to the root.
    let rewrite = |bytes: Vec<u8>| {
        String::from_utf8(bytes)
            .unwrap()
            .replace("\"actor\":\"tester\"", "\"actor\":\"someone\"")
            .into_bytes()
    };
    let mut changed = files.clone();
    for (name, bytes) in changed.iter_mut() {
        if *name == "access_log.ndjson" || *name == proof_name {
            let text = String::from_utf8(bytes.clone()).unwrap();
            let text = if *name == proof_name {
                let mut proof: Value = serde_json::from_str(&text).unwrap();
                proof["entry"]["actor"] = json!("someone");
                serde_json::to_string(&proof).unwrap()
            } else {
                text.lines()
                    .map(|l| {
                        if l.contains(&entry_id) {
                            String::from_utf8(rewrite(l.as_bytes().to_vec())).unwrap()
                        } else {
                            l.to_owned()
                        }
                    })
                    .map(|l| l + "\n")
                    .collect()
            };
            *bytes = text.into_bytes();
        }
    }
    let (code, text) = verify(&dir, &resigned(&changed), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("TAMPERED: {proof_name}: it does not lead")),
        "{text}"
    );
    // The log changed but not the proof.
    let zip = edit("access_log.ndjson", &|bytes| {
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| if l.contains(&entry_id) { String::from_utf8(rewrite(l.as_bytes().to_vec())).unwrap() } else { l.to_owned() } + "\n")
            .collect::<String>()
            .into_bytes()
    });
    let (code, text) = verify(&dir, &zip, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("TAMPERED: {proof_name}: its `entry` differs")),
        "{text}"
    );
    // A proof left out, an entry left out of the log, a receipt under another event's name.
    let without: Vec<_> = files
        .iter()
        .filter(|(n, _)| *n != proof_name)
        .cloned()
        .collect();
    let (code, text) = verify(&dir, &resigned(&without), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("TAMPERED: {proof_name}: missing")),
        "{text}"
    );
    let zip = edit("access_log.ndjson", &|bytes| {
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter(|l| !l.contains(&entry_id))
            .map(|l| l.to_owned() + "\n")
            .collect::<String>()
            .into_bytes()
    });
    let (code, text) = verify(&dir, &zip, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("TAMPERED: {proof_name}: proves no entry")),
        "{text}"
    );
    let receipts: Vec<&(String, Vec<u8>)> = files
        .iter()
        .filter(|(n, _)| n.starts_with("receipts/"))
        .collect();
    let zip = edit(&receipts[0].0, &|_| receipts[1].1.clone());
    let (code, text) = verify(&dir, &zip, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!(
            "TAMPERED: {}: its `consentReceiptID`",
            receipts[0].0
        )),
        "{text}"
    );
}
