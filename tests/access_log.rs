//! The access log: durable group commit, append-only storage, search, streaming and the hash chain.

use crate::harness::{token_for, TestApp};
use actix_web::test::TestRequest;
use planpro_privacy::access_log::{Action, Outcome};
use planpro_privacy::auth::{Actor, Scope};
use planpro_privacy::caller::Caller;
use serde_json::Value;
use uuid::Uuid;

fn caller(sub: &str) -> Caller {
    Caller {
        actor: Actor::new(sub, &[], None),
        request_id: format!("req-{sub}"),
        purpose: Some("audit test".into()),
    }
}

async fn log(app: &TestApp, sub: &str, action: Action, subject: Option<Uuid>, outcome: Outcome) {
    app.state
        .log_reads(vec![caller(sub).entry(
            action,
            subject.map(Into::into),
            outcome,
        )])
        .await
        .expect("entry committed");
}

fn bulk_insert(app: &TestApp, subject: Uuid, n: usize) {
    app.db.exec(&format!(
        "INSERT INTO access_log (id, at, actor, action, subject_id, outcome, purpose, request_id)
         SELECT gen_random_uuid(), now(), 'bulk', 'subject.read', '{subject}', 'allowed',
                'line ' || i || ', with \"quotes\"', 'r' || i
         FROM generate_series(1, {n}) AS i"
    ));
}

async fn get_as(app: &TestApp, path: &str, scopes: &[Scope]) -> crate::harness::Resp {
    app.send(TestRequest::get().uri(path).insert_header((
        "Authorization",
        format!("Bearer {}", token_for("auditor", scopes, None)),
    )))
    .await
}

#[actix_web::test]
async fn concurrent_reads_share_commits_and_every_entry_lands() {
    let app = TestApp::spawn().await;
    let subject = Uuid::now_v7();
    let tasks = (0..200).map(|i| {
        let app = &app;
        async move {
            log(
                app,
                &format!("reader{i}"),
                Action::SubjectRead,
                Some(subject),
                Outcome::Allowed,
            )
            .await;
        }
    });
    futures_util::future::join_all(tasks).await;
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE subject_id = '{subject}'"
        )),
        200
    );
    let metrics =
        String::from_utf8(app.send(TestRequest::get().uri("/metrics")).await.body).unwrap();
    let commits: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("access_log_commits_total "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(commits >= 1.0, "{metrics}");
}

#[actix_web::test]
async fn a_read_fails_closed_when_its_entry_cannot_be_written() {
    let app = TestApp::spawn().await;
    app.db
        .exec("ALTER TABLE access_log ADD CONSTRAINT no_more CHECK (actor <> 'blocked') NOT VALID");
    let result = app
        .state
        .log_reads(vec![caller("blocked").entry(
            Action::SubjectRead,
            None,
            Outcome::Allowed,
        )])
        .await;
    assert!(
        result.is_err(),
        "an entry that could not be written was reported as committed"
    );
    // The writer recovers for the next batch.
    log(&app, "fine", Action::SubjectRead, None, Outcome::Allowed).await;
}

#[actix_web::test]
async fn one_bad_entry_does_not_fail_the_rest_of_its_batch() {
    let app = TestApp::spawn().await;
    app.db
        .exec("ALTER TABLE access_log ADD CONSTRAINT no_more CHECK (actor <> 'blocked') NOT VALID");
    let actors: Vec<String> = (0..40)
        .map(|i| {
            if i == 20 {
                "blocked".to_owned()
            } else {
                format!("reader{i}")
            }
        })
        .collect();
    let results = futures_util::future::join_all(actors.iter().map(|actor| {
        app.state.log_reads(vec![caller(actor).entry(
            Action::SubjectRead,
            None,
            Outcome::Allowed,
        )])
    }))
    .await;
    for (actor, result) in actors.iter().zip(&results) {
        assert_eq!(result.is_ok(), actor != "blocked", "{actor}");
    }
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE actor LIKE 'reader%'"),
        39
    );
}

#[actix_web::test]
async fn the_database_refuses_to_change_or_remove_entries_for_every_role() {
    let app = TestApp::spawn().await;
    log(&app, "a", Action::SubjectRead, None, Outcome::Allowed).await;
    assert_eq!(verify(&app).await["ok"], true);
    use diesel::connection::SimpleConnection;
    let mut conn = app.db.conn();
    for sql in [
        "UPDATE access_log SET actor = 'someone else'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
        "TRUNCATE access_log_chain",
        "UPDATE access_log_chain SET hash = ''",
        "DELETE FROM access_log_seal",
    ] {
        let err = conn.batch_execute(sql).expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(
        app.db.count("SELECT 1 FROM access_log WHERE actor = 'a'"),
        1
    );
}

#[actix_web::test]
async fn search_filters_pages_and_logs_itself() {
    let app = TestApp::spawn().await;
    let (s1, s2) = (Uuid::now_v7(), Uuid::now_v7());
    for i in 0..5 {
        log(
            &app,
            "alice",
            Action::SubjectRead,
            Some(s1),
            Outcome::Allowed,
        )
        .await;
        log(
            &app,
            "bob",
            Action::ConsentChange,
            Some(s2),
            if i % 2 == 0 {
                Outcome::Denied
            } else {
                Outcome::Allowed
            },
        )
        .await;
    }
    let all = Scope::AccessLogsRead;
    let res = get_as(&app, &format!("/v1/access-logs?subject_id={s1}"), &[all]).await;
    res.assert_status(200);
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 5);
    assert!(items
        .iter()
        .all(|e| e["subject_id"] == s1.to_string() && e["actor"] == "alice"));
    assert_eq!(items[0]["purpose"], "audit test");
    assert_eq!(items[0]["request_id"], "req-alice");
    for key in [
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
    ] {
        assert!(items[0].get(key).is_some(), "entry lacks {key}");
    }

    let denied = get_as(
        &app,
        "/v1/access-logs?actor=bob&outcome=denied&action=consent.change",
        &[all],
    )
    .await;
    assert_eq!(denied.json()["items"].as_array().unwrap().len(), 3);

    // Paging by two: no duplicates, no gaps, and a final null cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/access-logs?actor=bob&limit=2&cursor={c}"),
            None => "/v1/access-logs?actor=bob&limit=2".to_owned(),
        };
        let page = get_as(&app, &path, &[all]).await.json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5, 5));

    // Every search was itself logged, with the subject when filtered by one.
    assert_eq!(
        app.db.count(&format!("SELECT 1 FROM access_log WHERE action = 'access_log.read' AND subject_id = '{s1}' AND actor = 'auditor'")),
        1
    );
    assert!(app.db.count("SELECT 1 FROM access_log WHERE action = 'access_log.read' AND subject_id IS NULL AND count IS NOT NULL") >= 4);
}

#[actix_web::test]
async fn time_range_and_order_work() {
    let app = TestApp::spawn().await;
    let s = Uuid::now_v7();
    log(
        &app,
        "early",
        Action::SubjectRead,
        Some(s),
        Outcome::Allowed,
    )
    .await;
    let middle = chrono::Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(5));
    log(&app, "late", Action::SubjectRead, Some(s), Outcome::Allowed).await;
    let from = middle.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let res = get_as(
        &app,
        &format!(
            "/v1/access-logs?subject_id={s}&from={}",
            from.replace('+', "%2B")
        ),
        &[Scope::AccessLogsRead],
    )
    .await;
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["actor"], "late");
    let res = get_as(
        &app,
        &format!(
            "/v1/access-logs?subject_id={s}&to={}",
            from.replace('+', "%2B")
        ),
        &[Scope::AccessLogsRead],
    )
    .await;
    assert_eq!(res.json()["items"][0]["actor"], "early");
    let desc = get_as(
        &app,
        &format!("/v1/subjects/{s}/access-logs?order=desc"),
        &[Scope::AccessLogsRead],
    )
    .await;
    let actors: Vec<String> = desc.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap().to_owned())
        .filter(|a| a != "auditor")
        .collect();
    assert_eq!(actors, ["late", "early"]);
}

#[actix_web::test]
async fn bad_parameters_are_all_named() {
    let app = TestApp::spawn().await;
    let res = get_as(
        &app,
        "/v1/access-logs?subject_id=nope&action=subject.eat&outcome=maybe&from=yesterday&limit=0&cursor=zz&order=up",
        &[Scope::AccessLogsRead],
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(
        res.bad_fields(),
        [
            "action",
            "cursor",
            "from",
            "limit",
            "order",
            "outcome",
            "subject_id"
        ]
    );
    get_as(
        &app,
        "/v1/subjects/not-a-uuid/access-logs",
        &[Scope::AccessLogsRead],
    )
    .await
    .assert_problem(400, "validation-failed");
}

#[actix_web::test]
async fn without_the_scope_the_attempt_is_refused_and_logged() {
    let app = TestApp::spawn().await;
    let s = Uuid::now_v7();
    let res = get_as(
        &app,
        &format!("/v1/subjects/{s}/access-logs"),
        &[Scope::SubjectsRead],
    )
    .await;
    res.assert_problem(403, "insufficient-scope");
    assert_eq!(
        app.db.count(&format!("SELECT 1 FROM access_log WHERE subject_id = '{s}' AND outcome = 'denied' AND action = 'access_log.read'")),
        1
    );
    let res = app.send(TestRequest::get().uri("/v1/access-logs")).await;
    res.assert_no_token();
}

#[actix_web::test]
async fn ndjson_and_csv_stream_every_matching_entry() {
    let app = TestApp::spawn().await;
    let s = Uuid::now_v7();
    bulk_insert(&app, s, 2500);
    let token = token_for("auditor", &[Scope::AccessLogsRead], None);
    let res = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/access-logs?subject_id={s}"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Accept", "application/x-ndjson")),
        )
        .await;
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/x-ndjson")
    );
    let text = String::from_utf8(res.body.clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The bulk entries and the entry that logs this very read, written before streaming began.
    assert_eq!(lines.len(), 2501);
    assert!(lines.iter().all(|e| e["subject_id"] == s.to_string()));
    assert_eq!(lines.iter().filter(|e| e["actor"] == "bulk").count(), 2500);
    assert_eq!(lines[2500]["action"], "access_log.read");

    let res = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/access-logs?subject_id={s}"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Accept", "text/csv")),
        )
        .await;
    res.assert_status(200);
    let text = String::from_utf8(res.body.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,at,actor,recipient_id,action,subject_id,outcome,purpose,request_id,count")
    );
    assert_eq!(text.lines().count(), 1 + 2500 + 2);
    assert!(
        text.contains(r#","line 1, with ""quotes""","#),
        "CSV quoting is wrong"
    );
}

pub(crate) async fn verify(app: &TestApp) -> Value {
    let res = get_as(app, "/v1/access-logs/verify", &[Scope::AccessLogsRead]).await;
    res.assert_status(200);
    res.json()
}

pub(crate) fn ids(app: &TestApp) -> Vec<String> {
    let list = app
        .db
        .scalar("SELECT string_agg(id::text, ',' ORDER BY seq) FROM access_log");
    list.split(',').map(str::to_owned).collect()
}

pub(crate) fn tamper(app: &TestApp, sql: &str) {
    app.db.exec(&format!(
        "ALTER TABLE access_log DISABLE TRIGGER access_log_append_only; {sql}; ALTER TABLE access_log ENABLE TRIGGER access_log_append_only;"
    ));
}

pub(crate) async fn chained_log(n: usize) -> TestApp {
    let app = TestApp::spawn().await;
    let s = Uuid::now_v7();
    for i in 0..n {
        log(
            &app,
            &format!("actor{i}"),
            Action::SubjectRead,
            Some(s),
            Outcome::Allowed,
        )
        .await;
    }
    let v = verify(&app).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], n as i64, "{v}");
    app
}

#[actix_web::test]
async fn verify_finds_a_changed_entry() {
    let app = chained_log(6).await;
    let ids = ids(&app);
    tamper(
        &app,
        &format!(
            "UPDATE access_log SET actor = 'nobody' WHERE id = '{}'",
            ids[3]
        ),
    );
    let v = verify(&app).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_id"], ids[3]);
}

#[actix_web::test]
async fn verify_finds_a_removed_entry() {
    let app = chained_log(6).await;
    let ids = ids(&app);
    tamper(
        &app,
        &format!("DELETE FROM access_log WHERE id = '{}'", ids[2]),
    );
    let v = verify(&app).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_id"], ids[2]);
}

#[actix_web::test]
async fn verify_finds_reordered_entries() {
    let app = chained_log(6).await;
    let ids = ids(&app);
    // Swap the contents of entries 1 and 4 (their seq stay): the order of events is rewritten.
    tamper(
        &app,
        &format!(
            "UPDATE access_log a SET actor = b.actor, at = b.at, request_id = b.request_id
             FROM (SELECT id, actor, at, request_id FROM access_log) b
             WHERE (a.id = '{one}' AND b.id = '{four}') OR (a.id = '{four}' AND b.id = '{one}')",
            one = ids[1],
            four = ids[4]
        ),
    );
    let v = verify(&app).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_id"], ids[1]);
}

#[actix_web::test]
async fn verify_finds_an_entry_inserted_into_the_past() {
    let app = chained_log(4).await;
    tamper(
        &app,
        "INSERT INTO access_log (id, at, actor, action, outcome, request_id, txid)
         VALUES ('00000000-0000-7000-8000-000000000001', now() - interval '1 day', 'forger', 'subject.read', 'allowed', 'x', 1)",
    );
    let v = verify(&app).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_bad_id"], "00000000-0000-7000-8000-000000000001");
}

#[actix_web::test]
async fn verify_a_time_range_and_keep_up_with_new_entries() {
    let app = chained_log(3).await;
    let cut = chrono::Utc::now();
    log(&app, "later", Action::SubjectRead, None, Outcome::Allowed).await;
    let from = cut
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        .replace('+', "%2B");
    let res = get_as(
        &app,
        &format!("/v1/access-logs/verify?from={from}"),
        &[Scope::AccessLogsRead],
    )
    .await;
    let v = res.json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], 1, "{v}");
    assert!(v["head_hash"].as_str().unwrap().len() == 64);
}
