//! Privacy requests: their deadlines, the one extension, closing with an outcome, the lists
//! compliance scripts read, the gauges, and their access-log entries.

use crate::harness::{staff, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{Duration, NaiveDate, Utc};
use planpro_privacy::domain::deadline;
use serde_json::{json, Value};
use uuid::Uuid;

async fn create_subject(app: &TestApp) -> Uuid {
    let res = app
        .post(
            "/v1/subjects",
            json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                   "source": {"type": "data_subject"}}),
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

fn id_of(value: &Value) -> Uuid {
    Uuid::parse_str(value["id"].as_str().expect("an id")).expect("a UUID")
}

async fn create(app: &TestApp, body: Value) -> Resp {
    app.post("/v1/privacy-requests", body).await
}

async fn request_about(app: &TestApp, subject: Option<Uuid>, kind: &str, at: &str) -> Value {
    let res = create(
        app,
        json!({"kind": kind, "subject_id": subject, "channel": "email", "received_at": at}),
    )
    .await;
    res.assert_status(201);
    res.json()
}

async fn act(app: &TestApp, id: &str, action: &str, etag: Option<&str>, body: Value) -> Resp {
    let mut req = TestRequest::post()
        .uri(&format!("/v1/privacy-requests/{id}/{action}"))
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .set_json(body);
    if let Some(tag) = etag {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

fn entries(app: &TestApp, action: &str, subject: Option<Uuid>) -> i64 {
    let about = subject.map_or("subject_id IS NULL".to_owned(), |s| {
        format!("subject_id = '{s}'")
    });
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = '{action}' AND outcome = 'allowed' AND {about}"
    ))
}

#[actix_web::test]
async fn a_request_is_recorded_with_its_tallinn_date_and_deadline() {
    let app = TestApp::spawn().await;
    let subject = create_subject(&app).await;
    for (received_at, received_on, due_on) in [
        ("2026-01-31T10:00:00Z", "2026-01-31", "2026-03-02"),
        ("2026-11-24T08:00:00Z", "2026-11-24", "2026-12-28"),
        ("2026-03-03T12:00:00Z", "2026-03-03", "2026-04-06"),
        ("2026-06-09T21:30:00Z", "2026-06-10", "2026-07-10"),
        ("2025-11-24T09:00:00Z", "2025-11-24", "2025-12-29"),
    ] {
        let res = create(
            &app,
            json!({"kind": "access", "subject_id": subject, "channel": "portal",
                   "received_at": received_at, "reference": "  portal form 812  "}),
        )
        .await;
        res.assert_status(201);
        assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
        let body = res.json();
        let id = body["id"].as_str().expect("an id");
        assert_eq!(
            res.header("location"),
            Some(format!("/v1/privacy-requests/{id}"))
        );
        assert_eq!(body["received_on"], received_on, "{received_at}");
        assert_eq!(body["due_on"], due_on, "{received_at}");
        assert_eq!(body["original_due_on"], due_on);
        assert_eq!(body["status"], "open");
        assert_eq!(body["extended"], false);
        assert_eq!(body["reference"], "portal form 812");
        for null in ["extension_reason", "outcome", "closed_at", "outcome_reason"] {
            assert_eq!(body[null], Value::Null, "{null}");
        }
        assert_eq!(body["version"], 1);
    }
    assert_eq!(entries(&app, "request.create", Some(subject)), 5);
    // A request whose subject is not yet known is about nobody.
    let anonymous = request_about(&app, None, "objection", "2026-11-30T10:00:00Z").await;
    assert_eq!(anonymous["subject_id"], Value::Null);
    assert_eq!(entries(&app, "request.create", None), 1);
    let read = app
        .get(&format!(
            "/v1/privacy-requests/{}",
            anonymous["id"].as_str().unwrap()
        ))
        .await;
    read.assert_status(200);
    assert_eq!(read.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(read.json(), anonymous);
    assert_eq!(entries(&app, "request.read", None), 1);
}

#[actix_web::test]
async fn bad_requests_name_every_bad_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let future = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let res = create(
        &app,
        json!({"kind": "complaint", "channel": "web", "received_at": "2026-11-30T10:00:00Z"}),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    let mut fields = res.bad_fields();
    fields.sort();
    assert_eq!(fields, ["channel", "kind"]);
    let res = create(
        &app,
        json!({"kind": "access", "channel": "email", "received_at": future,
               "reference": "x".repeat(201)}),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    let mut fields = res.bad_fields();
    fields.sort();
    assert_eq!(fields, ["received_at", "reference"]);
    let res = create(&app, json!({"kind": "access", "channel": "email"})).await;
    assert_eq!(res.bad_fields(), ["received_at"]);
    let unknown = Uuid::now_v7();
    let res = create(
        &app,
        json!({"kind": "erasure", "subject_id": unknown, "channel": "letter",
               "received_at": "2026-11-30T10:00:00Z"}),
    )
    .await;
    res.assert_problem(404, "not-found");
    assert_eq!(app.db.count("SELECT 1 FROM privacy_requests"), 0);
    assert_eq!(entries(&app, "request.create", Some(unknown)), 0);
    app.get(&format!("/v1/privacy-requests/{unknown}"))
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/privacy-requests/not-a-uuid")
        .await
        .assert_status(400);
}

#[actix_web::test]
async fn an_extension_needs_the_current_etag_and_happens_once_before_the_deadline() {
    let app = TestApp::spawn().await;
    let subject = create_subject(&app).await;
    let received = Utc::now() - Duration::days(2);
    let request = request_about(&app, Some(subject), "access", &received.to_rfc3339()).await;
    let id = request["id"].as_str().unwrap();
    let informed = (Utc::now() - Duration::minutes(5)).to_rfc3339();
    let body = json!({"reason": "ten years of planning files", "subject_informed_at": informed});

    act(&app, id, "extend", None, body.clone())
        .await
        .assert_problem(428, "precondition-required");
    act(&app, id, "extend", Some("\"7\""), body.clone())
        .await
        .assert_problem(412, "precondition-failed");
    let res = act(
        &app,
        id,
        "extend",
        Some("\"1\""),
        json!({"subject_informed_at": informed}),
    )
    .await;
    assert_eq!(res.bad_fields(), ["reason"]);
    let early = (received - Duration::days(1)).to_rfc3339();
    let res = act(
        &app,
        id,
        "extend",
        Some("\"1\""),
        json!({"reason": "more time", "subject_informed_at": early}),
    )
    .await;
    assert_eq!(res.bad_fields(), ["subject_informed_at"]);
    assert_eq!(entries(&app, "request.update", Some(subject)), 0);

    let res = act(&app, id, "extend", Some("\"1\""), body.clone()).await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    let extended = res.json();
    let received_on = deadline::tallinn_date(received);
    assert_eq!(extended["extended"], true);
    assert_eq!(extended["extension_reason"], "ten years of planning files");
    assert_eq!(
        extended["due_on"],
        deadline::due_on(received_on, 3).unwrap().to_string()
    );
    assert_eq!(extended["original_due_on"], request["due_on"]);
    assert_eq!(entries(&app, "request.update", Some(subject)), 1);
    act(&app, id, "extend", Some("\"2\""), body)
        .await
        .assert_problem(409, "already-extended");
}

#[actix_web::test]
async fn an_extension_after_the_original_deadline_is_too_late() {
    let app = TestApp::spawn().await;
    // Due 2026-03-02: long past.
    let request = request_about(&app, None, "rectification", "2026-01-31T10:00:00Z").await;
    let id = request["id"].as_str().unwrap();
    let res = act(
        &app,
        id,
        "extend",
        Some("\"1\""),
        json!({"reason": "more time", "subject_informed_at": "2026-02-10T10:00:00Z"}),
    )
    .await;
    res.assert_problem(409, "extension-too-late");
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT extended::text || ' ' || version FROM privacy_requests WHERE id = '{id}'"
        )),
        "false 1"
    );
}

#[test]
fn three_month_deadlines_move_past_holidays_too() {
    // 24 February 2027, Independence Day, is a Wednesday.
    assert_eq!(
        deadline::due_on(date("2026-11-24"), 3),
        Some(date("2027-02-25"))
    );
}

#[actix_web::test]
async fn closing_needs_an_outcome_a_refusal_its_reason_and_an_erasure_an_erased_subject() {
    let app = TestApp::spawn().await;
    let subject = create_subject(&app).await;
    let erasure = request_about(&app, Some(subject), "erasure", "2026-11-30T10:00:00Z").await;
    let id = erasure["id"].as_str().unwrap();
    let res = act(
        &app,
        id,
        "close",
        Some("\"1\""),
        json!({"outcome": "refused"}),
    )
    .await;
    assert_eq!(res.bad_fields(), ["reason"]);
    let res = act(&app, id, "close", Some("\"1\""), json!({"outcome": "done"})).await;
    assert_eq!(res.bad_fields(), ["outcome"]);
    act(&app, id, "close", None, json!({"outcome": "fulfilled"}))
        .await
        .assert_problem(428, "precondition-required");
    act(
        &app,
        id,
        "close",
        Some("\"1\""),
        json!({"outcome": "fulfilled"}),
    )
    .await
    .assert_problem(409, "request-not-fulfilled");
    assert_eq!(entries(&app, "request.update", Some(subject)), 0);

    // Once the subject is erased, the request can be fulfilled.
    app.post(
        &format!("/v1/subjects/{subject}/erasure"),
        json!({"reason": "asked for", "privacy_request_id": id}),
    )
    .await
    .assert_status(200);
    let res = act(
        &app,
        id,
        "close",
        Some("\"1\""),
        json!({"outcome": "fulfilled"}),
    )
    .await;
    res.assert_status(200);
    let closed = res.json();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["outcome"], "fulfilled");
    assert!(closed["closed_at"].is_string());
    assert_eq!(closed["version"], 2);
    assert_eq!(entries(&app, "request.update", Some(subject)), 1);
    act(
        &app,
        id,
        "close",
        Some("\"2\""),
        json!({"outcome": "withdrawn"}),
    )
    .await
    .assert_problem(409, "request-closed");
    act(
        &app,
        id,
        "extend",
        Some("\"2\""),
        json!({"reason": "r", "subject_informed_at": "2026-11-30T11:00:00Z"}),
    )
    .await
    .assert_problem(409, "request-closed");

    // An erased subject takes no new request (410); another one does.
    let res = create(
        &app,
        json!({"kind": "access", "subject_id": subject, "channel": "email",
               "received_at": "2026-11-30T10:00:00Z"}),
    )
    .await;
    res.assert_problem(410, "subject-erased");
    let subject = create_subject(&app).await;
    let access = request_about(&app, Some(subject), "access", "2026-11-30T10:00:00Z").await;
    let res = act(
        &app,
        access["id"].as_str().unwrap(),
        "close",
        Some("\"1\""),
        json!({"outcome": "refused", "reason": "the requester could not be identified"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(
        res.json()["outcome_reason"],
        "the requester could not be identified"
    );
}

async fn list(app: &TestApp, query: &str) -> Value {
    let res = app.get(&format!("/v1/privacy-requests?{query}")).await;
    res.assert_status(200);
    res.json()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn lists_filter_page_stream_and_log() {
    let app = TestApp::spawn().await;
    let subject = create_subject(&app).await;
    let other = create_subject(&app).await;
    // Overdue (due 2026-03-02), open and not due for a month, and one closed.
    let late = request_about(&app, Some(subject), "access", "2026-01-31T10:00:00Z").await;
    let recent_at = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let recent = request_about(&app, Some(other), "erasure", &recent_at).await;
    let closed = request_about(&app, Some(subject), "objection", "2026-02-02T10:00:00Z").await;
    act(
        &app,
        closed["id"].as_str().unwrap(),
        "close",
        Some("\"1\""),
        json!({"outcome": "withdrawn"}),
    )
    .await
    .assert_status(200);
    let all = |r: &Value| r["id"].as_str().unwrap().to_owned();
    let today = deadline::tallinn_date(Utc::now());

    assert_eq!(
        ids(&list(&app, "").await),
        [all(&late), all(&recent), all(&closed)]
    );
    assert_eq!(
        ids(&list(&app, &format!("overdue_on={today}")).await),
        [all(&late)]
    );
    assert_eq!(ids(&list(&app, "status=closed").await), [all(&closed)]);
    assert_eq!(ids(&list(&app, "kind=erasure").await), [all(&recent)]);
    assert_eq!(
        ids(&list(&app, &format!("subject_id={subject}&status=open")).await),
        [all(&late)]
    );
    let first = list(&app, "limit=2").await;
    assert_eq!(ids(&first), [all(&late), all(&recent)]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = list(&app, &format!("limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&second), [all(&closed)]);
    assert_eq!(second["next_cursor"], Value::Null);

    // Unfiltered lists log one entry with the count; filtered by subject, one about it.
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE action = 'request.read' AND subject_id IS NULL \
             AND count = 3"
        ),
        1
    );
    assert_eq!(entries(&app, "request.read", Some(subject)), 1);

    let res = app
        .send(
            TestRequest::get()
                .uri("/v1/privacy-requests?status=open")
                .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
                .insert_header(("Accept", "application/x-ndjson")),
        )
        .await;
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/x-ndjson")
    );
    let lines: Vec<Value> = String::from_utf8(res.body.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one request per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], late["id"]);

    let res = app
        .get("/v1/privacy-requests?status=pending&kind=x&overdue_on=tomorrow&subject_id=1&limit=0&colour=red")
        .await;
    let mut bad = res.bad_fields();
    bad.sort();
    assert_eq!(
        bad,
        [
            "colour",
            "kind",
            "limit",
            "overdue_on",
            "status",
            "subject_id"
        ]
    );
}

#[actix_web::test]
async fn gauges_count_open_overdue_and_soon_due_requests() {
    let app = TestApp::spawn().await;
    request_about(&app, None, "access", "2026-01-31T10:00:00Z").await;
    let recent = Utc::now() - Duration::days(29);
    request_about(&app, None, "access", &recent.to_rfc3339()).await;
    let today = deadline::tallinn_date(Utc::now());
    let due = deadline::due_on(deadline::tallinn_date(recent), 1).unwrap();
    let soon = i32::from(due >= today && due < today + Duration::days(7));
    let overdue = 1 + i32::from(due < today);
    let res = app.call(Method::GET, "/metrics", &[], None).await;
    res.assert_status(200);
    let text = String::from_utf8(res.body.clone()).unwrap();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing"))
            .to_owned()
    };
    assert_eq!(value("privacy_requests_open"), "2");
    assert_eq!(value("privacy_requests_overdue"), overdue.to_string());
    assert_eq!(value("privacy_requests_due_within_week"), soon.to_string());
}

#[actix_web::test]
async fn the_export_lists_the_subjects_requests() {
    let app = TestApp::spawn().await;
    let subject = create_subject(&app).await;
    let request = request_about(&app, Some(subject), "access", "2026-11-30T10:00:00Z").await;
    request_about(&app, None, "access", "2026-11-30T10:00:00Z").await;
    let res = app.get(&format!("/v1/subjects/{subject}/export")).await;
    res.assert_status(200);
    let exported = res.json()["privacy_requests"].clone();
    assert_eq!(exported, json!([request]));
}
