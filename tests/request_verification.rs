//! Verified requests (contract v3, E): a verification is recorded once under If-Match, and with
//! `REQUIRE_VERIFIED_REQUESTS` every destructive path citing a request (erasure, restriction,
//! freezing an access response) refuses an unverified one; a duplicate never skips it.

use crate::harness::{test_config, TestApp, TestDb, SECRET};
use crate::notices::arrange;
use crate::outcomes::{open_request, with_if_match};
use actix_web::http::Method;
use planpro_privacy::config::{JwtKey, Secret};
use serde_json::{json, Value};

fn version(app: &TestApp, table: &str, id: &str) -> String {
    format!(
        "\"{}\"",
        app.db
            .scalar(&format!("SELECT version FROM {table} WHERE id = '{id}'"))
    )
}

async fn strict_app() -> TestApp {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.require_verified_requests = true;
    TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await
}

#[actix_web::test]
async fn a_verification_is_recorded_once_under_if_match() {
    let app = TestApp::spawn().await;
    let (subject, _, _) = arrange(&app, None).await;
    let request = open_request(&app, "erasure", &subject).await;
    let path = format!("/v1/privacy-requests/{request}/verification");
    let now = chrono::Utc::now();
    for (body, field) in [
        (
            json!({"method": "eid", "verified_at": now + chrono::Duration::hours(1)}),
            "verified_at",
        ),
        (json!({"method": "telepathy", "verified_at": now}), "method"),
        (
            json!({"method": "eid", "verified_at": now - chrono::Duration::days(1)}),
            "verified_at",
        ),
    ] {
        let res = with_if_match(&app, Method::POST, &path, "\"1\"", body).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), vec![field]);
    }
    with_if_match(
        &app,
        Method::POST,
        &path,
        "\"9\"",
        json!({"method": "eid", "verified_at": now}),
    )
    .await
    .assert_problem(412, "precondition-failed");
    assert_eq!(
        app.db
            .count("SELECT 1 FROM privacy_requests WHERE verified_at IS NOT NULL"),
        0
    );
    let res = with_if_match(
        &app,
        Method::POST,
        &path,
        "\"1\"",
        json!({"method": "document_in_person", "verified_at": now}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.json()["verification_method"], "document_in_person");
    assert_eq!(res.json()["verified_by"], "tester");
    with_if_match(
        &app,
        Method::POST,
        &path,
        "\"2\"",
        json!({"method": "eid", "verified_at": now}),
    )
    .await
    .assert_problem(409, "already-verified");
}

async fn verify(app: &TestApp, request: &str) {
    with_if_match(
        app,
        Method::POST,
        &format!("/v1/privacy-requests/{request}/verification"),
        &version(app, "privacy_requests", request),
        json!({"method": "eid", "verified_at": chrono::Utc::now()}),
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn an_erasure_citing_an_unverified_request_is_refused_when_verification_is_required() {
    let app = strict_app().await;
    let (subject, _, _) = arrange(&app, None).await;
    let request = open_request(&app, "erasure", &subject).await;
    let path = format!("/v1/subjects/{subject}/erasure");
    let body = json!({"reason": "asked", "privacy_request_id": request});
    app.post(&path, body.clone())
        .await
        .assert_problem(409, "request-unverified");
    assert_eq!(app.db.count("SELECT 1 FROM erasures"), 0);
    assert_eq!(app.db.count("SELECT 1 FROM notices"), 0);
    verify(&app, &request).await;
    app.post(&path, body).await.assert_status(200);
}

#[actix_web::test]
async fn a_restriction_citing_an_unverified_request_is_refused_when_verification_is_required() {
    let app = strict_app().await;
    let (subject, _, _) = arrange(&app, None).await;
    let request = open_request(&app, "restriction", &subject).await;
    let path = format!("/v1/subjects/{subject}/restriction");
    let body = json!({"ground": "accuracy_contested", "reason": "contested", "privacy_request_id": request});
    app.post(&path, body.clone())
        .await
        .assert_problem(409, "request-unverified");
    assert_eq!(app.db.count("SELECT 1 FROM restrictions"), 0);
    verify(&app, &request).await;
    app.post(&path, body).await.assert_status(200);
}

#[actix_web::test]
async fn a_duplicate_is_linked_and_never_skips_verification() {
    let app = strict_app().await;
    let (subject, _, _) = arrange(&app, None).await;
    let first = open_request(&app, "erasure", &subject).await;
    verify(&app, &first).await;
    let second = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": "erasure", "subject_id": subject,
        "channel": "phone", "received_at": chrono::Utc::now()}),
        )
        .await;
    second.assert_status(201);
    assert_eq!(second.json()["duplicate_of"], first.as_str());
    assert_eq!(second.json()["verified_at"], Value::Null);
    let second = second.json()["id"].as_str().unwrap().to_owned();
    // Another kind is no duplicate.
    let other = open_request(&app, "access", &subject).await;
    assert_eq!(
        app.get(&format!("/v1/privacy-requests/{other}"))
            .await
            .json()["duplicate_of"],
        Value::Null
    );
    let path = format!("/v1/subjects/{subject}/erasure");
    app.post(
        &path,
        json!({"reason": "asked", "privacy_request_id": second}),
    )
    .await
    .assert_problem(409, "request-unverified");
    assert_eq!(app.db.count("SELECT 1 FROM erasures"), 0);
    verify(&app, &second).await;
    app.post(
        &path,
        json!({"reason": "asked", "privacy_request_id": second}),
    )
    .await
    .assert_status(200);
}

fn frozen(app: &TestApp) -> i64 {
    app.db.count("SELECT 1 FROM access_responses") + app.db.count("SELECT 1 FROM download_links")
}

#[actix_web::test]
async fn a_freeze_for_an_unverified_request_is_refused_when_verification_is_required() {
    let app = strict_app().await;
    let (subject, _, _) = arrange(&app, None).await;
    let request = open_request(&app, "access", &subject).await;
    let path = format!("/v1/privacy-requests/{request}/access-response");
    app.post(&path, json!({}))
        .await
        .assert_problem(409, "request-unverified");
    assert_eq!(frozen(&app), 0);
    verify(&app, &request).await;
    app.post(&path, json!({})).await.assert_status(201);
    assert_eq!(app.db.count("SELECT 1 FROM access_responses"), 1);
}

#[actix_web::test]
async fn a_duplicate_access_request_is_not_frozen_until_it_is_verified_itself() {
    let app = strict_app().await;
    let (subject, _, _) = arrange(&app, None).await;
    let first = open_request(&app, "access", &subject).await;
    verify(&app, &first).await;
    let second = open_request(&app, "access", &subject).await;
    assert_eq!(
        app.get(&format!("/v1/privacy-requests/{second}"))
            .await
            .json()["duplicate_of"],
        first.as_str()
    );
    let path = format!("/v1/privacy-requests/{second}/access-response");
    app.post(&path, json!({}))
        .await
        .assert_problem(409, "request-unverified");
    assert_eq!(frozen(&app), 0);
    verify(&app, &second).await;
    app.post(&path, json!({})).await.assert_status(201);
}

#[actix_web::test]
async fn without_the_requirement_an_unverified_request_is_frozen() {
    let app = TestApp::spawn().await;
    let (subject, _, _) = arrange(&app, None).await;
    let request = open_request(&app, "access", &subject).await;
    app.post(
        &format!("/v1/privacy-requests/{request}/access-response"),
        json!({}),
    )
    .await
    .assert_status(201);
}
