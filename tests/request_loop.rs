//! Requests run on tasks, and their figures are public (contract v3, E): tasks with If-Match,
//! request metrics and their histogram. Verification is in request_verification.rs.

use crate::harness::{test_config, TestApp, TestDb, SECRET};
use crate::notices::arrange;
use crate::outcomes::{open_request, with_if_match};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use planpro_privacy::config::{JwtKey, Secret};
use serde_json::{json, Value};

fn version(app: &TestApp, table: &str, id: &str) -> String {
    format!(
        "\"{}\"",
        app.db
            .scalar(&format!("SELECT version FROM {table} WHERE id = '{id}'"))
    )
}

#[actix_web::test]
async fn tasks_are_added_changed_under_if_match_and_sealed() {
    let app = TestApp::spawn().await;
    let (subject, _, _) = arrange(&app, None).await;
    let request = open_request(&app, "access", &subject).await;
    let path = format!("/v1/privacy-requests/{request}/tasks");
    let title = "Ask Kadri Tamm for the paper file";
    let bad = app
        .post(
            &path,
            json!({"title": " ", "assignee": "x".repeat(201), "due_on": "1899-01-01"}),
        )
        .await;
    bad.assert_problem(400, "validation-failed");
    assert_eq!(bad.bad_fields(), vec!["assignee", "due_on", "title"]);
    let res = app
        .post(
            &path,
            json!({"title": title, "assignee": "kadri", "due_on": "2026-12-18"}),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    let task = res.json();
    assert_eq!(
        (
            task["status"].clone(),
            task["title"].clone(),
            task["version"].clone()
        ),
        (json!("open"), json!(title), json!(1))
    );
    let id = task["id"].as_str().unwrap().to_owned();
    assert_eq!(res.header("location"), Some(format!("{path}/{id}")));
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM privacy_request_tasks WHERE id = '{id}' \
         AND position(convert_to('Kadri Tamm', 'UTF8') in title_enc) = 0"
        )),
        1
    );
    let list = app.get(&path).await;
    list.assert_status(200);
    assert_eq!(list.json()["items"][0]["title"], title);
    let one = format!("{path}/{id}");
    let snapshot = || {
        app.db.scalar(&format!(
            "SELECT row(t.*)::text FROM privacy_request_tasks t WHERE id = '{id}'"
        ))
    };
    let before = snapshot();
    // Missing and stale If-Match; bad bodies: nothing changes.
    app.send(
        TestRequest::patch()
            .uri(&one)
            .insert_header((
                "Authorization",
                format!("Bearer {}", app.token(&[Scope::RequestsWrite])),
            ))
            .set_json(json!({"assignee": "mart"})),
    )
    .await
    .assert_problem(428, "precondition-required");
    with_if_match(
        &app,
        Method::PATCH,
        &one,
        "\"7\"",
        json!({"assignee": "mart"}),
    )
    .await
    .assert_problem(412, "precondition-failed");
    with_if_match(
        &app,
        Method::PATCH,
        &one,
        "\"1\"",
        json!({"status": "open"}),
    )
    .await
    .assert_problem(400, "validation-failed");
    with_if_match(&app, Method::PATCH, &one, "\"1\"", json!({}))
        .await
        .assert_problem(400, "validation-failed");
    assert_eq!(snapshot(), before);
    let res = with_if_match(
        &app,
        Method::PATCH,
        &one,
        "\"1\"",
        json!({"assignee": null, "due_on": "2026-12-21"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(
        (res.json()["assignee"].clone(), res.json()["due_on"].clone()),
        (Value::Null, json!("2026-12-21"))
    );
    let res = with_if_match(
        &app,
        Method::PATCH,
        &one,
        "\"2\"",
        json!({"status": "done", "note": "sent by post"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(
        (
            res.json()["status"].clone(),
            res.json()["note"].clone(),
            res.json()["completed_by"].clone()
        ),
        (json!("done"), json!("sent by post"), json!("tester"))
    );
    with_if_match(
        &app,
        Method::PATCH,
        &one,
        "\"3\"",
        json!({"status": "cancelled"}),
    )
    .await
    .assert_problem(409, "task-closed");
    // A request without a subject has no tasks; a closed request takes none.
    let anonymous = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": "access", "channel": "letter",
        "received_at": "2026-12-01T10:00:00Z"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/v1/privacy-requests/{anonymous}/tasks"),
        json!({"title": "x"}),
    )
    .await
    .assert_problem(409, "request-without-subject");
    let open = app.post(&path, json!({"title": "Second"})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    with_if_match(
        &app,
        Method::POST,
        &format!("/v1/privacy-requests/{request}/close"),
        &version(&app, "privacy_requests", &request),
        json!({"outcome": "withdrawn"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT status FROM privacy_request_tasks WHERE id = '{open}'"
        )),
        "cancelled"
    );
    let tasks = app.db.count("SELECT 1 FROM privacy_request_tasks");
    app.post(&path, json!({"title": "Too late"}))
        .await
        .assert_problem(409, "request-closed");
    with_if_match(
        &app,
        Method::PATCH,
        &format!("{path}/{open}"),
        "\"2\"",
        json!({"assignee": "mart"}),
    )
    .await
    .assert_problem(409, "request-closed");
    assert_eq!(app.db.count("SELECT 1 FROM privacy_request_tasks"), tasks);
    // The erasure makes the titles unreadable.
    app.post(
        &format!("/v1/subjects/{subject}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);
    let items = app.get(&path).await.json()["items"].clone();
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["title"].is_null()),
        "{items}"
    );
}

#[actix_web::test]
async fn request_metrics_use_nearest_ranks_and_two_instances_report_one_histogram() {
    let app = TestApp::spawn().await;
    // Four closed access requests received on 2026-01-31, taking 3, 10, 30 and 31 days; one
    // extended and open; one rectification closed late.
    app.db.exec(
        "INSERT INTO privacy_requests (id, kind, channel, received_at, received_on, status, \
           original_due_on, due_on, extended, extension_reason, outcome, closed_at, created_by, \
           created_at, updated_at) VALUES \
         (gen_random_uuid(), 'access', 'email', '2026-01-31T08:00:00Z', '2026-01-31', 'closed', '2026-03-02', '2026-03-02', false, NULL, 'fulfilled', '2026-02-03T10:00:00Z', 't', now(), now()), \
         (gen_random_uuid(), 'access', 'email', '2026-01-31T08:00:00Z', '2026-01-31', 'closed', '2026-03-02', '2026-03-02', false, NULL, 'refused', '2026-02-10T10:00:00Z', 't', now(), now()), \
         (gen_random_uuid(), 'access', 'email', '2026-01-31T08:00:00Z', '2026-01-31', 'closed', '2026-03-02', '2026-03-02', false, NULL, 'fulfilled', '2026-03-02T10:00:00Z', 't', now(), now()), \
         (gen_random_uuid(), 'access', 'email', '2026-01-31T08:00:00Z', '2026-01-31', 'closed', '2026-03-02', '2026-03-02', false, NULL, 'withdrawn', '2026-03-03T10:00:00Z', 't', now(), now()), \
         (gen_random_uuid(), 'access', 'email', '2026-01-31T08:00:00Z', '2026-01-31', 'open', '2026-03-02', '2026-04-30', true, 'long', NULL, NULL, 't', now(), now()), \
         (gen_random_uuid(), 'rectification', 'letter', '2026-02-01T08:00:00Z', '2026-02-01', 'closed', '2026-03-02', '2026-03-02', false, NULL, 'fulfilled', '2026-03-02T22:30:00Z', 't', now(), now()), \
         (gen_random_uuid(), 'erasure', 'letter', '2025-01-01T08:00:00Z', '2025-01-01', 'closed', '2025-02-03', '2025-02-03', false, NULL, 'fulfilled', '2025-01-02T10:00:00Z', 't', now(), now())",
    );
    let res = app
        .get("/v1/privacy-requests/metrics?from=2026-01-01&to=2026-12-31")
        .await;
    res.assert_status(200);
    let m = res.json();
    assert_eq!(
        (m["from"].clone(), m["to"].clone()),
        (json!("2026-01-01"), json!("2026-12-31"))
    );
    assert_eq!(
        m["kinds"]["access"],
        json!({"received": 5, "fulfilled": 2, "refused": 1,
        "withdrawn": 1, "open": 1, "extended": 1, "closed_late": 1,
        "days_to_close": {"median": 10, "p90": 31}})
    );
    // Closed at 00:30 on 3 March in Tallinn: 30 days, after its due date.
    assert_eq!(
        m["kinds"]["rectification"]["days_to_close"],
        json!({"median": 30, "p90": 30})
    );
    assert_eq!(m["kinds"]["rectification"]["closed_late"], 1);
    // Outside the range, and kinds with none.
    assert_eq!(m["kinds"]["erasure"]["received"], 0);
    assert_eq!(
        m["kinds"]["erasure"]["days_to_close"],
        json!({"median": null, "p90": null})
    );
    assert_eq!(m["kinds"]["objection"]["received"], 0);
    let bad = app
        .get("/v1/privacy-requests/metrics?from=2026-02-01&to=2026-01-01&kind=x")
        .await;
    bad.assert_problem(400, "validation-failed");
    assert_eq!(bad.bad_fields(), vec!["kind"]);
    app.call(
        Method::GET,
        "/v1/privacy-requests/metrics",
        &[Scope::RequestsWrite],
        None,
    )
    .await
    .assert_problem(403, "insufficient-scope");
    // The histogram comes from the database: a second instance reports the same.
    let other = TestApp::on(
        TestDb::new(),
        &test_config(&app.db.url),
        &JwtKey::Secret(Secret::new(SECRET)),
    )
    .await;
    let (mut one, mut two) = (histogram(&app).await, histogram(&other).await);
    // Series come in no set order.
    one.sort();
    two.sort();
    assert_eq!(one, two);
    for (name, series, kind, le, expected) in [
        // 3, 14, 30 and 45 days; 74 days in all.
        ("days_to_close", "bucket", "access", Some("3"), 1.0),
        ("days_to_close", "bucket", "access", Some("14"), 2.0),
        ("days_to_close", "bucket", "access", Some("30"), 3.0),
        ("days_to_close", "bucket", "access", Some("45"), 4.0),
        ("days_to_close", "count", "access", None, 4.0),
        ("days_to_close", "sum", "access", None, 74.0),
        ("days_to_close", "count", "erasure", None, 1.0),
        ("days_to_close", "count", "objection", None, 0.0),
        // The same in seconds.
        (
            "time_to_close_seconds",
            "bucket",
            "access",
            Some("259200"),
            1.0,
        ),
        (
            "time_to_close_seconds",
            "bucket",
            "access",
            Some("3888000"),
            4.0,
        ),
        (
            "time_to_close_seconds",
            "sum",
            "access",
            None,
            74.0 * 86_400.0,
        ),
    ] {
        let found = one.iter().find(|line| {
            line.starts_with(&format!("privacy_request_{name}_{series}{{"))
                && line.contains(&format!("kind=\"{kind}\""))
                && le.is_none_or(|le| {
                    line.contains(&format!("le=\"{le}\""))
                        || line.contains(&format!("le=\"{le}.0\""))
                })
        });
        let value: f64 = found
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        assert_eq!(value, expected, "{name} {series} {kind} {le:?} in {one:#?}");
    }
}

async fn histogram(app: &TestApp) -> Vec<String> {
    let text = String::from_utf8(app.send(TestRequest::get().uri("/metrics")).await.body).unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("privacy_request_days_to_close")
                || l.starts_with("privacy_request_time_to_close_seconds")
        })
        .map(str::to_owned)
        .collect()
}
