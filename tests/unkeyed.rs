//! Entries forged or changed behind the service's back. Forged at or below the pre-MAC cut-over
//! (0 or negative on a fresh install, a gap in the numbering on an upgraded one) or above it, none
//! is chained, leafed or checkpointed, no proof is served for one, and `verify` names the first;
//! the entries that really predate the keys are vouched for once, at the upgrade, and stay in the
//! tree. Changed after its checkpoint, an entry's proof is a 409 naming the mismatch.

use crate::harness::{test_config, TestApp, TestDb, SECRET};
use crate::proofs::{append, get};
use diesel::connection::SimpleConnection;
use planpro_privacy::auth::Scope;
use planpro_privacy::config::{JwtKey, Secret};
use uuid::Uuid;

/// Inserts an entry behind the service's back: `seq` given or the next one, `mac` as SQL.
fn forge(db: &TestDb, seq: Option<i64>, mac: &str) -> Uuid {
    let id = Uuid::now_v7();
    let (seq_col, seq_val) = seq.map_or((String::new(), String::new()), |s| {
        ("seq, ".to_owned(), format!("{s}, "))
    });
    db.exec(&format!(
        "INSERT INTO access_log ({seq_col}id, at, actor, action, outcome, request_id, mac) \
         OVERRIDING SYSTEM VALUE VALUES ({seq_val}'{id}', now(), 'prover', 'subject.read', 'allowed', 'proof-test', {mac})"
    ));
    id
}

/// Checks that none of `forged` is chained, leafed or under a checkpoint, that their proofs
/// are 404 and that `verify` names `first`.
async fn kept_out(app: &TestApp, forged: &[Uuid], first: Uuid) {
    let v = get(app, "/v1/access-logs/verify", &[Scope::AccessLogsRead])
        .await
        .json();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad_id"], first.to_string(), "{v}");
    let size = app.wait_for_checkpoint().await;
    for id in forged {
        for table in ["access_log_chain", "access_log_leaf"] {
            assert_eq!(
                app.db
                    .count(&format!("SELECT 1 FROM {table} WHERE entry_id = '{id}'")),
                0,
                "{table}"
            );
        }
        get(
            app,
            &format!("/v1/access-logs/{id}/inclusion-proof"),
            &[Scope::AccessLogsRead],
        )
        .await
        .assert_problem(404, "not-found");
    }
    let leaves = app.db.count("SELECT 1 FROM access_log_leaf") as u64;
    assert_eq!(size, leaves, "no checkpoint is over more than the leaves");
    assert_eq!(
        app.db.count("SELECT 1 FROM access_log_refused") as usize,
        forged.len()
    );
}

#[actix_web::test]
async fn entries_forged_below_and_above_a_fresh_install_s_cutover_stay_out() {
    let app = TestApp::spawn().await;
    append(&app, 3).await;
    let below = forge(&app.db, Some(-1), "NULL");
    let at_zero = forge(&app.db, Some(0), "NULL");
    let below_bad_mac = forge(&app.db, Some(-7), "'\\x00'");
    let above = forge(&app.db, None, "NULL");
    let above_bad_mac = forge(&app.db, None, "'\\x00'");
    append(&app, 2).await;
    let forged = [below, at_zero, below_bad_mac, above, above_bad_mac];
    kept_out(&app, &forged, below_bad_mac).await;
    assert_eq!(app.db.count("SELECT 1 FROM access_log_leaf"), 5);
    assert_eq!(app.db.count("SELECT 1 FROM access_log_unkeyed"), 0);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log_unkeyed_fact WHERE cutover = 0 AND entries = 0"),
        1,
        "a fresh install records that no entry predates the keys"
    );
}

/// A database from before keyed entries, with a gap in its numbering below the cut-over (a
/// rolled-back insert): its entries are vouched for at the first start; a row forged into the
/// gap afterwards is not.
#[actix_web::test]
async fn an_entry_forged_below_an_upgraded_cutover_stays_out_and_the_old_ones_stay_in() {
    let db = TestDb::empty();
    let mut conn = db.conn();
    planpro_privacy::db::migrate_before(&mut conn, Some("2026-12-01-150000")).unwrap();
    let old = "INSERT INTO access_log (id, at, actor, action, outcome, request_id) \
               VALUES (gen_random_uuid(), now(), 'clerk', 'subject.read', 'allowed', 'v1');";
    // Each its own statement: a ROLLBACK in one batch would undo the batch's earlier inserts.
    for sql in [old, old, &format!("BEGIN;{old}ROLLBACK;"), old] {
        conn.batch_execute(sql).unwrap();
    }
    planpro_privacy::db::migrate(&mut conn).unwrap();
    drop(conn);
    assert_eq!(db.scalar("SELECT seq FROM access_log_cutover"), "4");
    let config = test_config(&db.url);
    let app = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    app.wait_for_checkpoint().await;
    let in_the_gap = forge(&app.db, Some(3), "NULL");
    append(&app, 2).await;
    kept_out(&app, &[in_the_gap], in_the_gap).await;
    assert_eq!(app.db.count("SELECT 1 FROM access_log_unkeyed"), 3);
    assert_eq!(app.db.count("SELECT 1 FROM access_log_leaf"), 5);
    let old_one = app.db.scalar("SELECT id FROM access_log WHERE seq = 1");
    get(
        &app,
        &format!("/v1/access-logs/{old_one}/inclusion-proof"),
        &[Scope::AccessLogsRead],
    )
    .await
    .assert_status(200);
}

/// An entry changed in the database after it was checkpointed (and one removed): its proof no
/// longer holds, which is a 409 naming the mismatch, never a 500; `verify` names the change.
#[actix_web::test]
async fn the_proof_of_an_entry_changed_in_the_database_is_409_not_500() {
    let app = TestApp::spawn().await;
    append(&app, 4).await;
    app.wait_for_checkpoint().await;
    let changed = app
        .db
        .scalar("SELECT id FROM access_log ORDER BY seq LIMIT 1");
    let removed = app
        .db
        .scalar("SELECT id FROM access_log ORDER BY seq DESC LIMIT 1");
    app.db.exec(&format!(
        "SET session_replication_role = replica;
         UPDATE access_log SET actor = 'someone else' WHERE id = '{changed}';
         DELETE FROM access_log WHERE id = '{removed}';
         SET session_replication_role = origin;"
    ));
    for id in [&changed, &removed] {
        let res = get(
            &app,
            &format!("/v1/access-logs/{id}/inclusion-proof"),
            &[Scope::AccessLogsRead],
        )
        .await;
        let problem = res.assert_problem(409, "entry-altered");
        assert!(
            problem["detail"].as_str().unwrap().contains("leaf"),
            "{problem}"
        );
    }
    let v = get(&app, "/v1/access-logs/verify", &[Scope::AccessLogsRead])
        .await
        .json();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad_id"], changed, "{v}");
}
