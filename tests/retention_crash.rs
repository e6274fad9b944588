//! A retention run cut by a real fault in the middle of a set: its backend terminated (as a
//! crash of the service or of the database would end it) after the set's erasure statements,
//! while it waits to count them in the run's row. No subject is left half erased, and the next
//! run erases the rest, with a signed receipt for every withdrawal it recorded.

use crate::harness::{staff, TestApp};
use actix_web::http::Method;
use diesel::connection::SimpleConnection;
use planpro_privacy::retention::run;
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use uuid::Uuid;

async fn old_client(app: &TestApp, month: u32) -> Uuid {
    let body = json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                      "source": {"type": "data_subject"},
                      "last_activity_at": format!("2023-{month:02}-10T10:00:00Z")});
    let res = app.post("/v1/subjects", body).await;
    res.assert_status(201);
    Uuid::parse_str(res.json()["id"].as_str().unwrap()).unwrap()
}

/// Each part of an erasure, for one subject: all true (erased) or all false (untouched).
fn parts(app: &TestApp, id: Uuid, run: &str) -> [bool; 6] {
    let yes = |sql: String| app.db.scalar(&sql) == "true";
    [
        yes(format!(
            "SELECT erased_at IS NOT NULL FROM subjects WHERE id = '{id}'"
        )),
        yes(format!(
            "SELECT NOT EXISTS (SELECT 1 FROM subject_keys WHERE subject_id = '{id}')"
        )),
        yes(format!(
            "SELECT EXISTS (SELECT 1 FROM erasures WHERE subject_id = '{id}')"
        )),
        yes(format!(
            "SELECT EXISTS (SELECT 1 FROM access_log WHERE subject_id = '{id}' \
             AND action = 'subject.erase' AND request_id = 'retention-run-{run}')"
        )),
        yes(format!(
            "SELECT (SELECT count(*) FROM consents WHERE subject_id = '{id}' \
             AND status = 'withdrawn') = (SELECT count(*) FROM purposes)"
        )),
        yes(format!(
            "SELECT EXISTS (SELECT 1 FROM consent_events WHERE subject_id = '{id}' \
             AND request_id = 'retention-run-{run}')"
        )),
    ]
}

fn whole_or_untouched(app: &TestApp, subjects: &[Uuid], run: &str) -> usize {
    let mut erased = 0;
    for id in subjects {
        let parts = parts(app, *id, run);
        assert!(
            parts == [true; 6] || parts == [false; 6],
            "subject {id} half erased: {parts:?}"
        );
        erased += usize::from(parts[0]);
    }
    erased
}

#[actix_web::test]
async fn a_set_cut_by_a_terminated_backend_leaves_no_half_erased_subject_and_a_rerun_finishes() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/retention/rules",
            json!({"subject_kind": "client", "keep_months": 12,
                   "legal_basis": "Accounting Act § 12"}),
        )
        .await;
    res.assert_status(201);
    let mut subjects = Vec::new();
    for month in 1..=9 {
        subjects.push(old_client(&app, month).await);
    }
    let mut conn = app.db.conn();
    let (row, _) = run::start(&mut conn, "tester").unwrap();
    let run_id = row.id.to_string();
    let stop = AtomicBool::new(false);
    // A first set commits: three erased, their receipts signed after it.
    run::carry_out(&mut conn, &mut [], &stop, Some(3)).unwrap();
    assert_eq!(whole_or_untouched(&app, &subjects, &run_id), 3);
    // As if the service died between a set's commit and its signing: the receipts are gone
    // (removed past the table's append-only trigger).
    app.db.exec(&format!(
        "SET session_replication_role = replica; \
         DELETE FROM consent_receipts WHERE event_id IN (SELECT id FROM consent_events \
         WHERE request_id = 'retention-run-{run_id}'); \
         SET session_replication_role = origin;"
    ));

    // The next set waits on the run's row after writing every erasure, and its backend is
    // terminated there.
    let mut blocker = app.db.conn();
    blocker
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM retention_runs WHERE id = '{run_id}' FOR UPDATE"
        ))
        .unwrap();
    let worker = std::thread::spawn(move || {
        let stop = AtomicBool::new(false);
        run::carry_out(&mut conn, &mut [], &stop, None).map(|_| ())
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let killed = app.db.count(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE \"retention_runs\"%'",
        );
        if killed == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the set never waited");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(worker.join().unwrap().is_err(), "the cut run reports it");
    blocker.batch_execute("ROLLBACK").unwrap();
    assert_eq!(whole_or_untouched(&app, &subjects, &run_id), 3);

    // The run under way is taken over and finishes the rest, each subject once.
    let res = app
        .call(Method::POST, "/v1/retention/runs", &staff(), None)
        .await;
    res.assert_status(202);
    assert_eq!(res.json()["id"], run_id.as_str());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let done: Value = loop {
        let res = app.get(&format!("/v1/retention/runs/{run_id}")).await;
        let body = res.json();
        if body["status"] != "running" {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "not finished: {body}");
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(done["status"], "finished", "{done}");
    assert_eq!(done["erased"], 9);
    assert_eq!(whole_or_untouched(&app, &subjects, &run_id), 9);
    // Every withdrawal the run recorded has its receipt, those left unsigned included.
    let events = format!("consent_events WHERE request_id = 'retention-run-{run_id}'");
    assert!(app.db.count(&format!("SELECT 1 FROM {events}")) >= 9);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM {events} AND id NOT IN (SELECT event_id FROM consent_receipts)"
        )),
        0
    );
}
