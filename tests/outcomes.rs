//! Closing the loop with recipients (contract v3, E): the outcome a recipient reports about a
//! notice, staff's recording, the overdue filter and metric, compliance figures, and the close
//! of a request that waits for them.

use crate::harness::{staff, token_for, Resp, TestApp};
use crate::notices::{arrange, rectify};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use uuid::Uuid;

/// An open request of `kind` about the subject; returns its id.
pub async fn open_request(app: &TestApp, kind: &str, subject: &str) -> String {
    let res = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": kind, "subject_id": subject, "channel": "email",
                   "received_at": chrono::Utc::now() - chrono::Duration::hours(1)}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().to_owned()
}

/// Posts as a partner of `recipient`.
pub async fn as_partner(
    app: &TestApp,
    recipient: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let token = token_for(
        &format!("partner-{recipient}"),
        &[Scope::Partner],
        Some(recipient.parse().unwrap()),
    );
    let mut req = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(body) = body {
        req = req.set_json(body);
    }
    app.send(req).await
}

/// Sends with If-Match.
pub async fn with_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    tag: &str,
    body: Value,
) -> Resp {
    app.send(
        TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("If-Match", tag.to_owned()))
            .set_json(body),
    )
    .await
}

/// A subject told to a recipient without a webhook (manual notices), erased for an erasure
/// request: (subject, recipient, request, notice).
async fn erased_for_request(app: &TestApp) -> (String, String, String, String) {
    let (subject, recipient, _) = arrange(app, None).await;
    let request = open_request(app, "erasure", &subject).await;
    app.post(
        &format!("/v1/subjects/{subject}/erasure"),
        json!({"reason": "asked by the person", "privacy_request_id": request}),
    )
    .await
    .assert_status(200);
    let notice = app.db.scalar(&format!(
        "SELECT id FROM notices WHERE subject_id = '{subject}' AND type = 'subject.erased'"
    ));
    (subject, recipient, request, notice)
}

fn notice_snapshot(app: &TestApp, notice: &str) -> String {
    app.db.scalar(&format!(
        "SELECT row(outcome, outcome_reason_enc, completed_at, outcome_recorded_by, \
         override_reason_enc)::text FROM notices WHERE id = '{notice}'"
    ))
}

#[actix_web::test]
async fn a_recipient_reports_the_outcome_of_its_own_notice_once() {
    let app = TestApp::spawn().await;
    let (_, recipient, request, notice) = erased_for_request(&app).await;
    // The notice carries the request and its due date; it opened a task on the request.
    let got = app.get(&format!("/v1/notifications/{notice}")).await;
    got.assert_status(200);
    let body = got.json();
    assert_eq!(body["privacy_request_id"], request.as_str());
    let today = planpro_privacy::domain::deadline::tallinn_date(chrono::Utc::now());
    let due = planpro_privacy::domain::working_days::nth_working_day_after(today, 10).unwrap();
    assert_eq!(body["outcome_due_on"], due.to_string());
    assert_eq!(body["outcome"], Value::Null);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM privacy_request_tasks WHERE notification_id = '{notice}' \
             AND status = 'open' AND due_on = '{due}'"
        )),
        1
    );
    let path = format!("/v1/partner/notifications/{notice}/outcome");
    let before = notice_snapshot(&app, &notice);
    // Another recipient's notice and an unknown one: the same 404.
    let stranger = app
        .post(
            "/v1/recipients",
            json!({"name": "Other OÜ", "category": "local_government",
            "contact_email": "a@other.ee"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = as_partner(
        &app,
        &stranger,
        Method::POST,
        &path,
        Some(json!({"outcome": "done",
        "completed_at": chrono::Utc::now()})),
    )
    .await;
    let unknown = as_partner(
        &app,
        &stranger,
        Method::POST,
        &format!("/v1/partner/notifications/{}/outcome", Uuid::new_v4()),
        Some(json!({"outcome": "done", "completed_at": chrono::Utc::now()})),
    )
    .await;
    assert_eq!(
        theirs.assert_problem(404, "not-found"),
        unknown.assert_problem(404, "not-found")
    );
    // Bad input: each its answer, nothing changed.
    let bad = [
        (
            json!({"outcome": "refused", "completed_at": chrono::Utc::now()}),
            "reason",
        ),
        (
            json!({"outcome": "done", "completed_at": chrono::Utc::now() + chrono::Duration::hours(1)}),
            "completed_at",
        ),
        (
            json!({"outcome": "done", "completed_at": chrono::Utc::now() - chrono::Duration::days(2)}),
            "completed_at",
        ),
        (
            json!({"outcome": "done", "completed_at": "1899-12-31T00:00:00Z"}),
            "completed_at",
        ),
        (
            json!({"outcome": "forgotten", "completed_at": chrono::Utc::now()}),
            "outcome",
        ),
        (
            json!({"outcome": "refused", "reason": "a\u{202e}b", "completed_at": chrono::Utc::now()}),
            "reason",
        ),
        (
            json!({"outcome": "refused", "reason": "x".repeat(501), "completed_at": chrono::Utc::now()}),
            "reason",
        ),
    ];
    for (body, field) in bad {
        let res = as_partner(&app, &recipient, Method::POST, &path, Some(body.clone())).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), vec![field.to_owned()], "{body}");
    }
    assert_eq!(notice_snapshot(&app, &notice), before);
    // The report.
    let reason = "kept the invoice: Accounting Act";
    let res = as_partner(
        &app,
        &recipient,
        Method::POST,
        &path,
        Some(json!({"outcome": "refused",
        "reason": reason, "completed_at": chrono::Utc::now()})),
    )
    .await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["outcome"], "refused");
    assert_eq!(body["outcome_reason"], reason);
    assert_eq!(body["outcome_recorded_by"], "recipient");
    // Sealed: the clear reason is nowhere in the row.
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM notices WHERE id = '{notice}' \
             AND position(convert_to('{reason}', 'UTF8') in outcome_reason_enc) = 0"
        )),
        1
    );
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT status || ' ' || completed_by FROM privacy_request_tasks \
             WHERE notification_id = '{notice}'"
        )),
        "done recipient"
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'notification.outcome' \
             AND actor = 'partner-{recipient}' AND outcome = 'allowed'"
        )),
        1
    );
    // Once only.
    let again = as_partner(
        &app,
        &recipient,
        Method::POST,
        &path,
        Some(json!({"outcome": "done",
        "completed_at": chrono::Utc::now()})),
    )
    .await;
    again.assert_problem(409, "outcome-recorded");
    // Its list: ids only, filtered.
    let list = as_partner(
        &app,
        &recipient,
        Method::GET,
        "/v1/partner/notifications?outcome=refused",
        None,
    )
    .await;
    list.assert_status(200);
    assert_eq!(list.json()["items"], json!([notice]));
    let pending = as_partner(
        &app,
        &recipient,
        Method::GET,
        "/v1/partner/notifications?outcome=pending",
        None,
    )
    .await;
    assert_eq!(pending.json()["items"], json!([]));
    as_partner(
        &app,
        &recipient,
        Method::GET,
        "/v1/partner/notifications?outcome=maybe",
        None,
    )
    .await
    .assert_problem(400, "validation-failed");
}

#[actix_web::test]
async fn a_notice_of_another_type_takes_no_outcome_and_staff_replace_one_with_a_reason() {
    let app = TestApp::spawn().await;
    let (subject, recipient, _) = arrange(&app, None).await;
    app.send(
        TestRequest::put()
            .uri(&format!(
                "/v1/subjects/{subject}/consents/marketing_planpro"
            ))
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .set_json(json!({"status": "withdrawn", "method": "api"})),
    )
    .await
    .assert_status(200);
    let withdrawn = app.db.scalar(&format!(
        "SELECT id FROM notices WHERE subject_id = '{subject}' AND type = 'consent.withdrawn'"
    ));
    let res = as_partner(
        &app,
        &recipient,
        Method::POST,
        &format!("/v1/partner/notifications/{withdrawn}/outcome"),
        Some(json!({"outcome": "done", "completed_at": chrono::Utc::now()})),
    )
    .await;
    res.assert_problem(409, "outcome-not-applicable");
    assert_eq!(
        app.get(&format!("/v1/notifications/{withdrawn}"))
            .await
            .json()["outcome_due_on"],
        Value::Null
    );
    // A restriction: staff record an outcome, then replace it; override_reason is required.
    app.post(
        &format!("/v1/subjects/{subject}/restriction"),
        json!({"ground": "accuracy_contested", "reason": "contested"}),
    )
    .await
    .assert_status(200);
    let restricted = app.db.scalar(&format!(
        "SELECT id FROM notices WHERE subject_id = '{subject}' AND type = 'subject.restricted'"
    ));
    let path = format!("/v1/notifications/{restricted}/outcome");
    let missing = app
        .post(
            &path,
            json!({"outcome": "done", "completed_at": chrono::Utc::now()}),
        )
        .await;
    missing.assert_problem(400, "validation-failed");
    assert_eq!(missing.bad_fields(), vec!["override_reason"]);
    for outcome in ["not_held", "done"] {
        let res = app
            .post(
                &path,
                json!({"outcome": outcome, "completed_at": chrono::Utc::now(),
            "override_reason": "the partner phoned on 2026-12-07"}),
            )
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["outcome"], outcome);
        assert_eq!(res.json()["outcome_recorded_by"], "tester");
        assert_eq!(
            res.json()["override_reason"],
            "the partner phoned on 2026-12-07"
        );
    }
    // Without the scope: refused and logged.
    app.call(
        Method::POST,
        &path,
        &[Scope::NotificationsRead],
        Some(json!({"outcome": "done",
        "completed_at": chrono::Utc::now(), "override_reason": "x"})),
    )
    .await
    .assert_problem(403, "insufficient-scope");
}

#[actix_web::test]
async fn overdue_notices_are_listed_counted_and_figured_per_recipient() {
    let app = TestApp::spawn().await;
    let (_, recipient, _, notice) = erased_for_request(&app).await;
    assert_eq!(
        app.get("/v1/notifications?outcome=overdue").await.json()["items"],
        json!([])
    );
    // Queued on Monday 2026-12-21: due 2027-01-07, long past.
    app.db.exec(&format!(
        "UPDATE notices SET created_at = '2026-12-21T08:00:00Z', outcome_due_on = '2027-01-07' \
         WHERE id = '{notice}'"
    ));
    let overdue = app.get("/v1/notifications?outcome=overdue").await.json();
    let today = planpro_privacy::domain::deadline::tallinn_date(chrono::Utc::now());
    let expected = if today > "2027-01-07".parse().unwrap() {
        json!([notice])
    } else {
        json!([])
    };
    let ids: Vec<Value> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    assert_eq!(Value::Array(ids), expected);
    // Make it overdue whatever today is.
    app.db.exec(&format!(
        "UPDATE notices SET outcome_due_on = current_date - 1 WHERE id = '{notice}'"
    ));
    let overdue = app.get("/v1/notifications?outcome=overdue").await.json();
    assert_eq!(overdue["items"][0]["id"], notice.as_str());
    let metrics =
        String::from_utf8(app.send(TestRequest::get().uri("/metrics")).await.body).unwrap();
    assert!(
        metrics.contains("recipient_outcomes_overdue 1"),
        "{metrics}"
    );
    let path = format!("/v1/recipients/{recipient}/compliance?from=2026-12-01&to=2026-12-31");
    let figures = app.get(&path).await;
    figures.assert_status(200);
    let f = figures.json();
    assert_eq!(
        (
            f["notices"].clone(),
            f["pending"].clone(),
            f["overdue"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(f["median_working_days"], Value::Null);
    // Answered on Monday 2026-12-28 (Tallinn): 3 working days, on time for 2027-01-07.
    app.db.exec(&format!(
        "UPDATE notices SET outcome_due_on = '2027-01-07', outcome = 'done', \
         completed_at = '2026-12-28T10:00:00Z', outcome_recorded_by = 'recipient', \
         outcome_recorded_at = now() WHERE id = '{notice}'"
    ));
    let f = app.get(&path).await.json();
    assert_eq!(f["done"], 1);
    assert_eq!(f["pending"], 0);
    assert_eq!(f["answered_late"], 0);
    assert_eq!(f["median_working_days"], 3);
    assert_eq!(f["recipient_id"], recipient.as_str());
    // Outside the range: nothing.
    let f = app
        .get(&format!(
            "/v1/recipients/{recipient}/compliance?from=2027-01-01&to=2027-01-31"
        ))
        .await
        .json();
    assert_eq!(f["notices"], 0);
    // Bad ranges and unknown recipients.
    let bad = app
        .get(&format!(
            "/v1/recipients/{recipient}/compliance?from=2027-01-02&to=2027-01-01"
        ))
        .await;
    bad.assert_problem(400, "validation-failed");
    assert_eq!(bad.bad_fields(), vec!["from", "to"]);
    app.get(&format!(
        "/v1/recipients/{recipient}/compliance?from=yesterday"
    ))
    .await
    .assert_problem(400, "validation-failed");
    app.get(&format!("/v1/recipients/{}/compliance", Uuid::new_v4()))
        .await
        .assert_problem(404, "not-found");
    app.call(Method::GET, &path, &[Scope::RecipientsRead], None)
        .await
        .assert_problem(403, "insufficient-scope");
}

#[actix_web::test]
async fn a_request_closes_fulfilled_only_once_recipients_answered_and_tasks_are_done() {
    let app = TestApp::spawn().await;
    let (subject, recipient, request, notice) = erased_for_request(&app).await;
    let close = |version: i64, body: Value| {
        let app = &app;
        let request = request.clone();
        async move {
            with_if_match(
                app,
                Method::POST,
                &format!("/v1/privacy-requests/{request}/close"),
                &format!("\"{version}\""),
                body,
            )
            .await
        }
    };
    let version = |app: &TestApp| {
        app.db
            .scalar(&format!(
                "SELECT version FROM privacy_requests WHERE id = '{request}'"
            ))
            .parse::<i64>()
            .unwrap()
    };
    let res = close(version(&app), json!({"outcome": "fulfilled"})).await;
    let problem = res.assert_problem(409, "recipients-unconfirmed");
    assert_eq!(problem["notification_ids"], json!([notice]));
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT status FROM privacy_requests WHERE id = '{request}'"
        )),
        "open"
    );
    // The recipient answers: its task closes; the close now succeeds.
    as_partner(
        &app,
        &recipient,
        Method::POST,
        &format!("/v1/partner/notifications/{notice}/outcome"),
        Some(json!({"outcome": "done", "completed_at": chrono::Utc::now()})),
    )
    .await
    .assert_status(200);
    let res = close(version(&app), json!({"outcome": "fulfilled"})).await;
    res.assert_status(200);
    assert_eq!(res.json()["override_reason"], Value::Null);
    let _ = subject;
}

#[actix_web::test]
async fn an_override_reason_closes_anyway_is_shown_and_cancels_open_tasks() {
    let app = TestApp::spawn().await;
    let (subject, recipient, _) = arrange(&app, None).await;
    let request = open_request(&app, "rectification", &subject).await;
    // The rectification answers the request: its notice carries it.
    rectify(
        &app,
        &subject,
        json!({"reason": "asked", "email": "mari@uus.ee",
        "privacy_request_id": request}),
    )
    .await
    .assert_status(200);
    let notice = app.db.scalar(&format!(
        "SELECT id FROM notices WHERE subject_id = '{subject}' AND type = 'subject.rectified'"
    ));
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT privacy_request_id FROM notices WHERE id = '{notice}'"
        )),
        request
    );
    // A request of another kind, or a closed one, is refused and nothing changes.
    let other = open_request(&app, "erasure", &subject).await;
    let res = rectify(
        &app,
        &subject,
        json!({"reason": "asked", "email": "x@uus.ee", "privacy_request_id": other}),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), vec!["privacy_request_id"]);
    let path = format!("/v1/privacy-requests/{request}/tasks");
    let task = app
        .post(&path, json!({"title": "Call the person back"}))
        .await;
    task.assert_status(201);
    let version = app.db.scalar(&format!(
        "SELECT version FROM privacy_requests WHERE id = '{request}'"
    ));
    let close = format!("/v1/privacy-requests/{request}/close");
    let res = with_if_match(
        &app,
        Method::POST,
        &close,
        &format!("\"{version}\""),
        json!({"outcome": "fulfilled"}),
    )
    .await;
    res.assert_problem(409, "recipients-unconfirmed");
    // After the recipient's answer, the open task blocks.
    as_partner(
        &app,
        &recipient,
        Method::POST,
        &format!("/v1/partner/notifications/{notice}/outcome"),
        Some(json!({"outcome": "not_held", "completed_at": chrono::Utc::now()})),
    )
    .await
    .assert_status(200);
    let res = with_if_match(
        &app,
        Method::POST,
        &close,
        &format!("\"{version}\""),
        json!({"outcome": "fulfilled"}),
    )
    .await;
    let problem = res.assert_problem(409, "tasks-open");
    assert_eq!(problem["task_ids"], json!([task.json()["id"]]));
    let res = with_if_match(
        &app,
        Method::POST,
        &close,
        &format!("\"{version}\""),
        json!({"outcome": "fulfilled", "override_reason": "the person was called; no record kept"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(
        res.json()["override_reason"],
        "the person was called; no record kept"
    );
    assert_eq!(app.db.count(&format!(
        "SELECT 1 FROM privacy_request_tasks WHERE request_id = '{request}' AND status = 'cancelled'")), 1);
    assert_eq!(
        app.get(&format!("/v1/privacy-requests/{request}"))
            .await
            .json()["override_reason"],
        "the person was called; no record kept"
    );
}

#[actix_web::test]
async fn a_restriction_for_a_request_carries_it_to_its_notices() {
    let app = TestApp::spawn().await;
    let (subject, _, _) = arrange(&app, None).await;
    let request = open_request(&app, "restriction", &subject).await;
    let erasure = open_request(&app, "erasure", &subject).await;
    let path = format!("/v1/subjects/{subject}/restriction");
    let res = app
        .post(
            &path,
            json!({"ground": "objection_pending", "reason": "objected",
        "privacy_request_id": erasure}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(app.db.count("SELECT 1 FROM restrictions"), 0);
    app.post(
        &path,
        json!({"ground": "objection_pending", "reason": "objected",
        "privacy_request_id": request}),
    )
    .await
    .assert_status(200);
    assert_eq!(app.db.count(&format!(
        "SELECT 1 FROM notices WHERE type = 'subject.restricted' AND privacy_request_id = '{request}' \
         AND outcome_due_on IS NOT NULL")), 1);
    assert_eq!(
        app.db.count(
            &format!(
        "SELECT 1 FROM privacy_request_tasks WHERE request_id = '{request}' AND status = 'open'")
        ),
        1
    );
}
