//! Double opt-in (contract v3, C): a grant waits for its one-time token, of which only the hash
//! is stored; the link confirms without a bearer token, with evidence of the confirming request;
//! every other use of a token is 404 or 410 and changes nothing.

use crate::consent_versions::{add_version, flag_of, insert_subject, put, version, PARTNERS};
use crate::harness::{staff, Resp, TestApp};
use actix_web::test::TestRequest;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

async fn double_opt_in(app: &TestApp) {
    add_version(
        app,
        PARTNERS,
        Some("\"1\""),
        version(
            false,
            json!({"confirmation": "double_opt_in", "validity_months": 12}),
        ),
    )
    .await
    .assert_status(201);
}

async fn grant(app: &TestApp, subject: Uuid) -> Value {
    let res = put(
        app,
        subject,
        PARTNERS,
        json!({"status": "granted", "method": "web_form", "evidence": "newsletter form"}),
    )
    .await;
    res.assert_status(200);
    res.json()
}

async fn confirm(app: &TestApp, token: &str) -> Resp {
    app.send(
        TestRequest::post()
            .uri("/v1/consents/confirmations")
            .peer_addr("192.0.2.77:51000".parse().unwrap())
            .insert_header(("User-Agent", "Mozilla/5.0 (test)"))
            .set_json(json!({ "token": token })),
    )
    .await
}

/// Everything a refused confirmation must leave as it was.
fn snapshot(app: &TestApp) -> String {
    app.db.scalar(
        "SELECT (SELECT count(*) FROM consent_events)::text || '/' || \
           (SELECT count(*) FROM consent_receipts) || '/' || \
           (SELECT count(*) FROM consent_confirmations WHERE used_at IS NOT NULL) || '/' || \
           (SELECT string_agg(status || state_of, ',') FROM (SELECT c.status, \
              coalesce(c.given_at::text, '-') AS state_of FROM consents c) f)",
    )
}

fn token_of(granted: &Value) -> String {
    granted["confirmation_token"]
        .as_str()
        .expect("a confirmation token")
        .to_owned()
}

#[actix_web::test]
async fn a_double_opt_in_is_pending_until_its_link_confirms_it_with_evidence() {
    let app = TestApp::spawn().await;
    double_opt_in(&app).await;
    let subject = insert_subject(&app);
    let granted = grant(&app, subject).await;
    assert_eq!(granted["state"], "pending_confirmation");
    assert_eq!(granted["status"], "granted");
    assert_eq!(granted["eligible"], false);
    let token = token_of(&granted);
    assert_eq!(token.len(), 43);
    assert!(granted["confirmation_expires_at"].is_string());
    // Only the token's SHA-256 is stored.
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM consent_confirmations WHERE encode(token_sha256, 'hex') = '{hash}'"
        )),
        1
    );
    // A read never shows the token again.
    assert_eq!(
        flag_of(&app, subject, PARTNERS).await["confirmation_token"],
        Value::Null
    );

    let res = confirm(&app, &token).await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["purpose"], PARTNERS);
    assert_eq!(body["state"], "given");
    let flag = flag_of(&app, subject, PARTNERS).await;
    assert_eq!(flag["state"], "given");
    assert_eq!(flag["eligible"], true);
    assert_eq!(flag["confirmation_expires_at"], Value::Null);
    let confirmed_at: chrono::DateTime<chrono::Utc> =
        body["confirmed_at"].as_str().unwrap().parse().unwrap();
    let given_at: chrono::DateTime<chrono::Utc> =
        flag["given_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        given_at, confirmed_at,
        "given_at is the confirmation's time"
    );
    assert!(flag["expires_at"].is_string(), "validity counts from now");

    let history = app
        .get(&format!("/v1/subjects/{subject}/consents/history"))
        .await
        .json();
    let event = &history["items"][0];
    assert_eq!(event["actor"], "link:confirmation");
    assert_eq!(
        (&event["status"], &event["state"]),
        (&json!("granted"), &json!("given"))
    );
    assert_eq!(
        event["evidence"],
        r#"{"ip_prefix":"192.0.2.0/24","user_agent":"Mozilla/5.0 (test)"}"#
    );
    let event_id = event["id"].as_str().unwrap();
    app.get(&format!(
        "/v1/subjects/{subject}/consents/history/{event_id}/receipt"
    ))
    .await
    .assert_status(200);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'consent.confirm' \
             AND actor = 'link:confirmation' AND subject_id = '{subject}'"
        )),
        1
    );

    // Used once: the second use is refused and changes nothing.
    let before = snapshot(&app);
    confirm(&app, &token)
        .await
        .assert_problem(410, "confirmation-expired");
    assert_eq!(snapshot(&app), before);
}

#[actix_web::test]
async fn unknown_and_malformed_tokens_are_404_and_written_nowhere() {
    let app = TestApp::spawn().await;
    let entries = app.db.count("SELECT 1 FROM access_log");
    for token in ["short", &"A".repeat(43), &"*".repeat(43), ""] {
        confirm(&app, token).await.assert_status(404);
    }
    let res = app
        .send(
            TestRequest::post()
                .uri("/v1/consents/confirmations")
                .set_json(json!({"token": 7})),
        )
        .await;
    res.assert_status(400);
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), entries);
}

#[actix_web::test]
async fn replaced_withdrawn_lapsed_invalidated_and_erased_tokens_are_410() {
    let app = TestApp::spawn().await;
    double_opt_in(&app).await;

    // Replaced by a new grant: only the newest token works.
    let subject = insert_subject(&app);
    let first = token_of(&grant(&app, subject).await);
    let second = token_of(&grant(&app, subject).await);
    let before = snapshot(&app);
    confirm(&app, &first)
        .await
        .assert_problem(410, "confirmation-expired");
    assert_eq!(snapshot(&app), before);
    confirm(&app, &second).await.assert_status(200);

    // Withdrawn before it was confirmed.
    let subject = insert_subject(&app);
    let token = token_of(&grant(&app, subject).await);
    put(
        &app,
        subject,
        PARTNERS,
        json!({"status": "withdrawn", "method": "email"}),
    )
    .await
    .assert_status(200);
    let before = snapshot(&app);
    confirm(&app, &token)
        .await
        .assert_problem(410, "confirmation-expired");
    assert_eq!(snapshot(&app), before);

    // Older than 168 hours: the flag reads `expired`, the link is refused.
    let subject = insert_subject(&app);
    let token = token_of(&grant(&app, subject).await);
    app.db.exec(&format!(
        "UPDATE consent_confirmations SET created_at = created_at - interval '168 hours' \
           WHERE subject_id = '{subject}'; \
         UPDATE consents SET confirmation_expires_at = confirmation_expires_at \
           - interval '168 hours' WHERE subject_id = '{subject}'"
    ));
    assert_eq!(flag_of(&app, subject, PARTNERS).await["state"], "expired");
    let before = snapshot(&app);
    confirm(&app, &token)
        .await
        .assert_problem(410, "confirmation-expired");
    assert_eq!(snapshot(&app), before);

    // Erased (checked first): 410 subject-erased.
    let subject = insert_subject(&app);
    let token = token_of(&grant(&app, subject).await);
    app.post(
        &format!("/v1/subjects/{subject}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);
    confirm(&app, &token)
        .await
        .assert_problem(410, "subject-erased");

    // Invalidated by a material version.
    let subject = insert_subject(&app);
    let token = token_of(&grant(&app, subject).await);
    add_version(&app, PARTNERS, Some("\"2\""), version(true, json!({})))
        .await
        .assert_status(201);
    let before = snapshot(&app);
    confirm(&app, &token)
        .await
        .assert_problem(410, "confirmation-expired");
    assert_eq!(snapshot(&app), before);
}

#[actix_web::test]
async fn an_idempotent_replay_of_a_double_opt_in_answers_no_token() {
    let app = TestApp::spawn().await;
    double_opt_in(&app).await;
    let subject = insert_subject(&app);
    let send = || {
        app.send(
            TestRequest::put()
                .uri(&format!("/v1/subjects/{subject}/consents/{PARTNERS}"))
                .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
                .insert_header(("Idempotency-Key", "grant-1"))
                .set_json(json!({"status": "granted", "method": "web_form"})),
        )
    };
    let first = send().await;
    first.assert_status(200);
    assert!(first.json()["confirmation_token"].is_string());
    let replay = send().await;
    replay.assert_status(200);
    assert_eq!(replay.json()["confirmation_token"], Value::Null);
    assert_eq!(replay.json()["state"], "pending_confirmation");
}
