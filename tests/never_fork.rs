//! Never a fork (contract v3, F): entries removed behind the service's back after they were
//! checkpointed raise the alarm within 10 s, no checkpoint is signed over them (not even after a
//! restart, nor by a second instance that only read the checkpoint), serving goes on, and an
//! operator's signed rollback statement lets signing resume. A sealer that fails round after round
//! says so in `/readyz`, and `verify` still answers.

use crate::harness::{test_config, token_for, TestApp, TestDb, SECRET};
use actix_web::test::TestRequest;
use planpro_privacy::access_log::{rollback, Action, NewEntry, Outcome};
use planpro_privacy::auth::{Actor, Scope};
use planpro_privacy::caller::Caller;
use planpro_privacy::config::{Config, JwtKey, Secret};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use uuid::Uuid;

async fn append(app: &TestApp, n: usize) {
    let caller = Caller {
        actor: Actor::new("fork-test", &[], None),
        request_id: "fork-test".into(),
        purpose: None,
    };
    let subject = Uuid::now_v7();
    let entries: Vec<NewEntry> = (0..n)
        .map(|_| caller.entry(Action::SubjectRead, Some(subject.into()), Outcome::Allowed))
        .collect();
    app.state
        .log_reads(entries)
        .await
        .expect("entries committed");
}

async fn ready(app: &TestApp) -> Value {
    let res = app.send(TestRequest::get().uri("/readyz")).await;
    res.assert_status(200);
    res.json()
}

async fn checkpoint_note(app: &TestApp) -> String {
    let res = app
        .send(
            TestRequest::get()
                .uri("/v1/access-logs/checkpoint")
                .insert_header((
                    "Authorization",
                    format!(
                        "Bearer {}",
                        token_for("auditor", &[Scope::AccessLogsCheckpoint], None)
                    ),
                )),
        )
        .await;
    res.assert_status(200);
    String::from_utf8(res.body.clone()).unwrap()
}

fn size_of(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// Waits (up to `limit`) until `/readyz` lists `alarm`; the time it took.
async fn wait_for_alarm(app: &TestApp, alarm: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let body = ready(app).await;
        if body["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == alarm)
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "no {alarm} within {limit:?}: {body}"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Removes the last `n` entries with their chain links, leaves and seal rows, as a restore or a
/// failover to a standby that missed commits leaves the log (its checkpoints stay).
fn roll_back(db: &TestDb, n: i64) {
    db.exec(&format!(
        "SET session_replication_role = replica;
         CREATE TEMP TABLE gone AS SELECT seq FROM access_log ORDER BY seq DESC LIMIT {n};
         DELETE FROM access_log_leaf WHERE entry_seq IN (SELECT seq FROM gone);
         DELETE FROM access_log_chain WHERE entry_seq IN (SELECT seq FROM gone);
         DELETE FROM access_log_seal WHERE last_pos > (SELECT coalesce(max(pos), 0) FROM access_log_chain);
         DELETE FROM access_log WHERE seq IN (SELECT seq FROM gone);
         INSERT INTO access_log_seal (horizon, last_pos)
             SELECT (SELECT max(txid) + 1 FROM access_log), coalesce(max(pos), 0) FROM access_log_chain;
         SET session_replication_role = origin;"
    ));
}

fn metric(text: &str, name: &str) -> Option<i64> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
}

fn checkpoints(db: &TestDb) -> i64 {
    db.count("SELECT 1 FROM access_log_checkpoint")
}

#[actix_web::test]
async fn entries_removed_after_their_checkpoint_raise_the_alarm_and_are_never_signed_over() {
    let db = TestDb::new();
    let config = test_config(&db.url);
    let app = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    append(&app, 8).await;
    let signed = app.wait_for_checkpoint().await;
    assert_eq!(ready(&app).await, json!({"status": "ready", "alarms": []}));
    let before = checkpoints(&app.db);

    roll_back(&app.db, 3);
    append(&app, 5).await;
    let took = wait_for_alarm(&app, "checkpoints-refused", Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(10));
    // Entries keep being chained; nothing is signed over them; the last consistent checkpoint
    // is still the one served; serving and writing go on.
    actix_rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        checkpoints(&app.db),
        before,
        "no checkpoint signed over the rollback"
    );
    assert_eq!(size_of(&checkpoint_note(&app).await), signed);
    let metrics = app.get("/metrics").await;
    let text = String::from_utf8(metrics.body.clone()).unwrap();
    assert_eq!(
        metric(&text, "access_log_checkpoints_refused"),
        Some(1),
        "{text}"
    );
    let verify = app.get("/v1/access-logs/verify").await;
    verify.assert_status(200);

    // A restart (the same DATA_DIR) still refuses.
    let again = TestDb {
        name: app.db.name.clone(),
        url: app.db.url.clone(),
    };
    app.state.shutdown();
    let restarted = TestApp::on(again, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    append(&restarted, 2).await;
    wait_for_alarm(&restarted, "checkpoints-refused", Duration::from_secs(10)).await;
    assert_eq!(checkpoints(&restarted.db), before);

    // The operator states what the log holds: any other size is refused.
    let proofs = restarted.state.sealer.proofs().clone();
    let mut conn = restarted.db.conn();
    // Every entry is in the tree (chained while the alarm stands) before the size is read.
    let deadline = Instant::now() + Duration::from_secs(10);
    while restarted.db.count("SELECT 1 FROM access_log_leaf")
        != restarted.db.count("SELECT 1 FROM access_log")
    {
        assert!(Instant::now() < deadline, "entries left unchained");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    let held = restarted.db.count("SELECT 1 FROM access_log_leaf") as u64;
    let wrong = rollback::accept(&mut conn, &proofs, held + 1, "restored from backup");
    assert!(wrong.unwrap_err().contains(&format!("--size {held}")));
    assert_eq!(restarted.db.count("SELECT 1 FROM access_log_rollback"), 0);
    let accepted = rollback::accept(&mut conn, &proofs, held, "restored from backup")
        .expect("the rollback is accepted");
    assert_eq!((accepted.old_size, accepted.new_size), (signed, held));
    // Signing resumes: the alarm goes, and a checkpoint of the new epoch holds the
    // `access_log.rollback` entry.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready(&restarted).await["alarms"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the alarm stayed");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    let resumed = restarted.wait_for_new_epoch_checkpoint(held + 1).await;
    assert_eq!(size_of(&checkpoint_note(&restarted).await), resumed);
    assert_eq!(
        restarted
            .db
            .count("SELECT 1 FROM access_log WHERE action = 'access_log.rollback'"),
        1
    );
    let list = restarted
        .send(
            TestRequest::get()
                .uri("/v1/access-logs/rollbacks")
                .insert_header((
                    "Authorization",
                    format!(
                        "Bearer {}",
                        token_for("auditor", &[Scope::AccessLogsCheckpoint], None)
                    ),
                )),
        )
        .await;
    list.assert_status(200);
    let items = list.json()["items"].clone();
    assert_eq!(items[0]["old_size"], signed);
    assert_eq!(items[0]["new_size"], held);
    assert_eq!(items[0]["reason"], "restored from backup");
    assert!(items[0]["statement"]
        .as_str()
        .unwrap()
        .contains("\nrollback\n"));
    let forbidden = restarted
        .send(
            TestRequest::get()
                .uri("/v1/access-logs/rollbacks")
                .insert_header((
                    "Authorization",
                    format!(
                        "Bearer {}",
                        token_for("nobody", &[Scope::SubjectsRead], None)
                    ),
                )),
        )
        .await;
    forbidden.assert_status(403);
}

#[actix_web::test]
async fn a_second_instance_that_read_the_checkpoint_never_signs_over_it_either() {
    let db = TestDb::new();
    let config = test_config(&db.url);
    let first = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    let second_config: Config = test_config(&first.db.url);
    assert_ne!(config.data_dir, second_config.data_dir);
    let second = TestApp::on(
        TestDb {
            name: first.db.name.clone(),
            url: first.db.url.clone(),
        },
        &second_config,
        &JwtKey::Secret(Secret::new(SECRET)),
    )
    .await;
    // Both sign in turn as the log grows, each over the other's checkpoints.
    for _ in 0..3 {
        append(&first, 3).await;
        append(&second, 3).await;
        first.wait_for_checkpoint().await;
    }
    let signed = first.wait_for_checkpoint().await;
    // The second instance records what it reads, at least every few seconds.
    let recorded = second_config.data_dir.join("checkpoints/newest.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&recorded).unwrap_or_default();
        if text.contains(&format!("\\n{signed}\\n")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second instance did not record {signed}: {text}"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready(&second).await["alarms"], json!([]));
    // The first instance goes away; the log loses entries; the second keeps the record.
    first.state.shutdown();
    let before = checkpoints(&second.db);
    roll_back(&second.db, 4);
    append(&second, 6).await;
    wait_for_alarm(&second, "checkpoints-refused", Duration::from_secs(10)).await;
    actix_rt::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        checkpoints(&second.db),
        before,
        "no checkpoint signed over the other's"
    );
    assert_eq!(size_of(&checkpoint_note(&second).await), signed);
}

#[actix_web::test]
async fn a_sealer_failing_round_after_round_shows_in_readyz_and_verify_still_answers() {
    let app = TestApp::spawn().await;
    append(&app, 5).await;
    app.wait_for_checkpoint().await;
    // The chain's head link goes, its entry stays: no round can extend the chain.
    app.db.exec(
        "SET session_replication_role = replica;
         DELETE FROM access_log_chain WHERE pos = (SELECT max(pos) FROM access_log_chain);
         SET session_replication_role = origin;",
    );
    append(&app, 2).await;
    wait_for_alarm(&app, "sealer-failing", Duration::from_secs(12)).await;
    let verify = app.get("/v1/access-logs/verify").await;
    verify.assert_status(200);
    assert_eq!(verify.json()["ok"], false, "{}", verify.json());
    let metrics = app.get("/metrics").await;
    let text = String::from_utf8(metrics.body.clone()).unwrap();
    assert_eq!(metric(&text, "access_log_sealer_failing"), Some(1));
}
