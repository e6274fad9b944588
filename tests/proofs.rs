//! Proofs anyone can check: every served inclusion and consistency proof is compared with an
//! independent RFC 6962 implementation written here, over random tree sizes; checkpoint
//! signatures are checked with a second Ed25519 library; entries the service did not write are
//! kept out of the tree; a database behind the last signed checkpoint stops the signing.

use crate::harness::{test_config, token_for, Resp, TestApp, TestDb, SECRET};
use actix_web::test::TestRequest;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use planpro_privacy::access_log::{Action, NewEntry, Outcome};
use planpro_privacy::auth::{Actor, Scope};
use planpro_privacy::caller::Caller;
use planpro_privacy::config::{JwtKey, Secret};
use proptest::strategy::{Strategy, ValueTree};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

// ---------------------------------------------------------------- RFC 6962, independently

fn sha(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

/// MTH(D[n]) straight from RFC 6962 §2.1, over leaf data.
fn mth(d: &[Vec<u8>]) -> Vec<u8> {
    match d.len() {
        0 => sha(&[]),
        1 => sha(&[&[0], &d[0]]),
        n => {
            let k = k_of(n);
            sha(&[&[1], &mth(&d[..k]), &mth(&d[k..])])
        }
    }
}

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// PATH(m, D[n]) of RFC 6962 §2.1.1.
fn path(m: usize, d: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2.
fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Vec<u8>> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// RFC 8785 for an entry as the API returns it: serde_json's map keeps keys sorted.
fn leaf_data(entry: &Value) -> Vec<u8> {
    let members = [
        "id",
        "at",
        "actor",
        "recipient_id",
        "action",
        "subject_id",
        "outcome",
        "purpose",
        "request_id",
        "count",
    ];
    let map: serde_json::Map<String, Value> = members
        .iter()
        .map(|m| ((*m).to_owned(), entry[*m].clone()))
        .collect();
    serde_json::to_vec(&Value::Object(map)).unwrap()
}

// ---------------------------------------------------------------- helpers

fn caller() -> Caller {
    Caller {
        actor: Actor::new("prover", &[], None),
        request_id: "proof-test".into(),
        purpose: Some("a purpose with \"quotes\" and é".into()),
    }
}

pub(crate) async fn append(app: &TestApp, n: usize) {
    let subject = Uuid::now_v7();
    let entries: Vec<NewEntry> = (0..n)
        .map(|i| {
            let e = caller().entry(Action::SubjectRead, Some(subject.into()), Outcome::Allowed);
            if i % 3 == 0 {
                e.with_count(i)
            } else {
                e
            }
        })
        .collect();
    app.state
        .log_reads(entries)
        .await
        .expect("entries committed");
}

pub(crate) async fn get(app: &TestApp, path: &str, scopes: &[Scope]) -> Resp {
    app.send(TestRequest::get().uri(path).insert_header((
        "Authorization",
        format!("Bearer {}", token_for("auditor", scopes, None)),
    )))
    .await
}

/// Every leaf's data, in tree order, from the entries the API returns.
fn all_leaf_data(app: &TestApp) -> Vec<Vec<u8>> {
    let text = app.db.scalar(
        "SELECT coalesce(json_agg(json_build_object('id', a.id, 'at', \
         to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'actor', a.actor, \
         'recipient_id', a.recipient_id, 'action', a.action, 'subject_id', a.subject_id, \
         'outcome', a.outcome, 'purpose', a.purpose, 'request_id', a.request_id, 'count', a.count) \
         ORDER BY l.idx), '[]') FROM access_log_leaf l JOIN access_log a ON a.seq = l.entry_seq",
    );
    let rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    rows.iter().map(leaf_data).collect()
}

fn checkpoint_sizes(app: &TestApp) -> Vec<usize> {
    let text = app.db.scalar(
        "SELECT coalesce(string_agg(size::text, ',' ORDER BY size), '') FROM access_log_checkpoint",
    );
    text.split(',').filter_map(|s| s.parse().ok()).collect()
}

fn hashes(v: &Value) -> Vec<Vec<u8>> {
    v["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| B64.decode(h.as_str().unwrap()).unwrap())
        .collect()
}

/// Parses a checkpoint note and checks its signature with ed25519-compact and the published key.
fn check_note(note: &str, vkey: &str) -> (usize, Vec<u8>) {
    let (name, rest) = vkey.trim().split_once('+').unwrap();
    let (id_hex, key_b64) = rest.split_once('+').unwrap();
    let typed = B64.decode(key_b64).unwrap();
    assert_eq!(typed[0], 1, "an Ed25519 verifier key");
    let id = sha(&[name.as_bytes(), b"\n", &typed]);
    assert_eq!(
        hex(&id[..4]),
        id_hex,
        "the key id is SHA-256(name ‖ LF ‖ 0x01 ‖ key)[..4]"
    );
    let (body, sigs) = note.split_once("\n\n").unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], name);
    let line = sigs.lines().next().unwrap();
    let blob = B64
        .decode(line.strip_prefix(&format!("\u{2014} {name} ")).unwrap())
        .unwrap();
    assert_eq!(&blob[..4], &id[..4]);
    let public = ed25519_compact::PublicKey::from_slice(&typed[1..]).unwrap();
    let signature = ed25519_compact::Signature::from_slice(&blob[4..]).unwrap();
    public
        .verify(format!("{body}\n").as_bytes(), &signature)
        .expect("the checkpoint's signature verifies");
    (lines[1].parse().unwrap(), B64.decode(lines[2]).unwrap())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------- the tests

#[actix_web::test]
async fn every_served_proof_matches_an_independent_rfc6962_over_random_sizes() {
    let app = TestApp::spawn().await;
    let vkey = String::from_utf8(
        app.send(TestRequest::get().uri("/v1/access-logs/checkpoint-key"))
            .await
            .assert_status(200)
            .body
            .clone(),
    )
    .unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let batches = proptest::collection::vec(1usize..400, 6)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let mut checked = 0;
    for (round, n) in batches.into_iter().enumerate() {
        append(&app, n).await;
        let size = app.wait_for_checkpoint().await as usize;
        let res = get(
            &app,
            "/v1/access-logs/checkpoint",
            &[Scope::AccessLogsCheckpoint],
        )
        .await;
        res.assert_status(200);
        let note = String::from_utf8(res.body.clone()).unwrap();
        let (signed_size, root) = check_note(&note, &vkey);
        assert_eq!(signed_size, size);
        let data = all_leaf_data(&app);
        assert_eq!(root, mth(&data[..size]), "round {round}: the signed root");
        let sizes = checkpoint_sizes(&app);
        // Inclusion: a few leaves at the latest checkpoint and at an earlier one.
        let earlier = sizes[round * 7 % sizes.len()];
        for (at, leaf) in [
            (size, 0),
            (size, size - 1),
            (size, size / 2),
            (earlier, earlier - 1),
        ] {
            let id = serde_json::from_slice::<Value>(&data[leaf]).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let res = get(
                &app,
                &format!("/v1/access-logs/{id}/inclusion-proof?size={at}"),
                &[Scope::AccessLogsRead],
            )
            .await;
            res.assert_status(200);
            let proof = res.json();
            assert_eq!(proof["leaf_index"], leaf as u64);
            assert_eq!(proof["tree_size"], at as u64);
            assert_eq!(
                leaf_data(&proof["entry"]),
                data[leaf],
                "the entry as its leaf encodes it"
            );
            assert_eq!(
                hashes(&proof),
                path(leaf, &data[..at]),
                "PATH({leaf}, D[{at}])"
            );
            check_note(proof["checkpoint"].as_str().unwrap(), &vkey);
            checked += 1;
        }
        // Consistency between every pair of the last few checkpoints.
        for &from in sizes.iter().rev().take(4) {
            for &to in sizes.iter().rev().take(3).filter(|t| **t >= from) {
                let res = get(
                    &app,
                    &format!("/v1/access-logs/consistency-proof?from={from}&to={to}"),
                    &[Scope::AccessLogsCheckpoint],
                )
                .await;
                res.assert_status(200);
                assert_eq!(
                    hashes(&res.json()),
                    subproof(from, &data[..to], true),
                    "PROOF({from}, D[{to}])"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} proofs checked");
}

#[actix_web::test]
async fn bad_proof_requests_are_4xx_and_never_500() {
    let app = TestApp::spawn().await;
    append(&app, 5).await;
    let size = app.wait_for_checkpoint().await;
    let first = app
        .db
        .scalar("SELECT entry_id FROM access_log_leaf WHERE idx = 0");
    let last = app.db.scalar(&format!(
        "SELECT entry_id FROM access_log_leaf WHERE idx = {}",
        size - 1
    ));
    let read = [Scope::AccessLogsRead];
    let cases = [
        ("/v1/access-logs/not-a-uuid/inclusion-proof".to_owned(), 400),
        (
            format!("/v1/access-logs/{}/inclusion-proof", Uuid::now_v7()),
            404,
        ),
        (
            format!("/v1/access-logs/{}/inclusion-proof", Uuid::new_v4()),
            404,
        ),
        (
            format!("/v1/access-logs/{first}/inclusion-proof?size=0"),
            400,
        ),
        (
            format!("/v1/access-logs/{first}/inclusion-proof?size=x"),
            400,
        ),
        (
            format!("/v1/access-logs/{first}/inclusion-proof?size={}", size + 7),
            400,
        ),
        (
            format!("/v1/access-logs/{first}/inclusion-proof?sise=1"),
            400,
        ),
        (
            format!("/v1/access-logs/{last}/inclusion-proof?size={size}"),
            200,
        ),
        (
            format!("/v1/access-logs/consistency-proof?from={size}&to={size}"),
            200,
        ),
        (
            format!(
                "/v1/access-logs/consistency-proof?from={}&to={size}",
                size + 1
            ),
            400,
        ),
        (
            "/v1/access-logs/consistency-proof?from=0&to=1".to_owned(),
            400,
        ),
        ("/v1/access-logs/consistency-proof?to=1".to_owned(), 400),
        (
            format!("/v1/access-logs/consistency-proof?from={size}&to=1"),
            400,
        ),
    ];
    for (path, status) in cases {
        let res = get(&app, &path, &read).await;
        assert_eq!(
            res.status.as_u16(),
            status,
            "{path}: {}",
            String::from_utf8_lossy(&res.body)
        );
    }
    let res = get(
        &app,
        &format!("/v1/access-logs/consistency-proof?from={}&to=1", size + 1),
        &read,
    )
    .await;
    assert!(
        res.bad_fields().contains(&"from".to_owned()),
        "{:?}",
        res.bad_fields()
    );
    // The checkpoint scope reads checkpoints and consistency proofs, not entries.
    let auditor = [Scope::AccessLogsCheckpoint];
    let res = get(
        &app,
        &format!("/v1/access-logs/{first}/inclusion-proof"),
        &auditor,
    )
    .await;
    res.assert_problem(403, "insufficient-scope");
    get(&app, "/v1/access-logs/checkpoint", &[Scope::SubjectsRead])
        .await
        .assert_problem(403, "insufficient-scope");
    let denied = app.db.count(
        "SELECT 1 FROM access_log WHERE actor = 'auditor' AND outcome = 'denied' AND action = 'access_log.read'",
    );
    assert_eq!(denied, 2, "refused proof requests are logged");
}

#[actix_web::test]
async fn an_entry_not_yet_in_a_checkpoint_is_409_with_retry_after() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.proofs.checkpoint_interval = std::time::Duration::from_secs(10);
    let app = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    append(&app, 2).await;
    app.wait_for_checkpoint().await;
    append(&app, 1).await;
    let id = app
        .db
        .scalar("SELECT id FROM access_log ORDER BY seq DESC LIMIT 1");
    let res = get(
        &app,
        &format!("/v1/access-logs/{id}/inclusion-proof"),
        &[Scope::AccessLogsRead],
    )
    .await;
    res.assert_problem(409, "not-yet-checkpointed");
    assert_eq!(res.header("retry-after").as_deref(), Some("11"));
}

#[actix_web::test]
async fn entries_the_service_did_not_write_stay_out_of_the_tree() {
    let app = TestApp::spawn().await;
    append(&app, 3).await;
    // A plausible entry inserted behind the service's back, and one with a made-up MAC.
    let forged = Uuid::now_v7();
    let bad_mac = Uuid::now_v7();
    app.db.exec(&format!(
        "INSERT INTO access_log (id, at, actor, action, outcome, request_id) VALUES
           ('{forged}', now(), 'prover', 'subject.read', 'allowed', 'proof-test');
         INSERT INTO access_log (id, at, actor, action, outcome, request_id, mac) VALUES
           ('{bad_mac}', now(), 'prover', 'subject.read', 'allowed', 'proof-test', '\\x00');"
    ));
    append(&app, 2).await;
    let v = get(&app, "/v1/access-logs/verify", &[Scope::AccessLogsRead])
        .await
        .json();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad_id"], forged.to_string());
    app.wait_for_checkpoint().await;
    assert_eq!(app.db.count("SELECT 1 FROM access_log_leaf"), 5);
    assert_eq!(app.db.count("SELECT 1 FROM access_log_refused"), 2);
    for id in [forged, bad_mac] {
        get(
            &app,
            &format!("/v1/access-logs/{id}/inclusion-proof"),
            &[Scope::AccessLogsRead],
        )
        .await
        .assert_problem(404, "not-found");
    }
}

#[actix_web::test]
async fn the_bench_computes_the_same_macs_as_the_service() {
    let app = TestApp::spawn().await;
    let sql =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/mac.sql")).unwrap();
    app.db.exec(&format!("CREATE SCHEMA bench; {sql}"));
    let id = Uuid::now_v7();
    app.db.exec(&format!(
        "INSERT INTO access_log (id, at, actor, action, subject_id, outcome, purpose, request_id, count, mac)
         SELECT '{id}', t, 'staff-1', 'subject.read', '{id}', 'allowed', 'line \"1\"', 'bench-load-1', 3,
                bench.entry_mac(decode('{key}', 'base64'), '{id}', t, 'staff-1', NULL, 'subject.read',
                                '{id}', 'allowed', 'line \"1\"', 'bench-load-1', 3)
         FROM (SELECT to_timestamp(1764576000.123456) AS t) x",
        key = crate::harness::ACCESS_LOG_KEY
    ));
    let v = get(&app, "/v1/access-logs/verify", &[Scope::AccessLogsRead])
        .await
        .json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(app.db.count("SELECT 1 FROM access_log_refused"), 0);
}

#[actix_web::test]
async fn a_database_behind_the_last_signed_checkpoint_stops_the_signing() {
    let db = TestDb::new();
    let config = test_config(&db.url);
    let app = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    append(&app, 4).await;
    app.wait_for_checkpoint().await;
    // Stopped, not dropped: dropping a test app removes its data folder.
    app.state.shutdown();
    // The same service (same data folder, so the same kept checkpoint) on a database restored
    // from before those entries: an empty one.
    let restored = TestDb::new();
    let mut config2 = test_config(&restored.url);
    config2.data_dir = config.data_dir.clone();
    let _first = app;
    let app = TestApp::on(restored, &config2, &JwtKey::Secret(Secret::new(SECRET))).await;
    append(&app, 6).await;
    let v = get(&app, "/v1/access-logs/verify", &[Scope::AccessLogsRead])
        .await
        .json();
    assert_eq!(v["ok"], true, "{v}");
    actix_rt::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        app.db.count("SELECT 1 FROM access_log_checkpoint"),
        0,
        "nothing signed"
    );
    // Serving goes on; the alarm is listed.
    let ready = app.send(TestRequest::get().uri("/readyz")).await;
    ready.assert_status(200);
    assert_eq!(
        ready.json(),
        serde_json::json!({"status": "ready", "alarms": ["checkpoints-refused"]})
    );
}
