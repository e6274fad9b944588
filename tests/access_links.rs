//! A new download link for a frozen access response (contract v3, section B: `POST
//! .../access-response/{rid}/link` answers a new `download_url`, killing the old): only its
//! token's hash kept, the old links dead, the same scopes as freezing, every refusal with its
//! answer and nothing changed, and erasure.

use crate::access_downloads::{close, downloads, freeze, link, request, subject};
use crate::harness::{staff, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use planpro_privacy::rights::access_response::freeze::hex;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// An open `access` request about a new subject, with a response frozen for it.
async fn frozen(app: &TestApp) -> (String, Value, Value) {
    let id = subject(app).await;
    let req = request(app, "access", Some(&id)).await;
    let res = freeze(app, &req, json!({})).await;
    res.assert_status(201);
    (id, req, res.json())
}

fn path(req: &Value, frozen: &Value) -> String {
    format!(
        "/v1/privacy-requests/{}/access-response/{}/link",
        req["id"].as_str().unwrap(),
        frozen["id"].as_str().unwrap()
    )
}

async fn relink(app: &TestApp, path: &str) -> Resp {
    app.call(Method::POST, path, &staff(), None).await
}

fn freezes(app: &TestApp, subject: &str) -> i64 {
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = 'access_response.freeze' \
         AND subject_id = '{subject}' AND outcome = 'allowed'"
    ))
}

/// Links and allowed entries: equal before and after means a refusal changed nothing.
fn state(app: &TestApp) -> String {
    app.db.scalar(
        "SELECT (SELECT count(*) || ':' || count(revoked_at) FROM download_links) || '|' || \
         (SELECT count(*) FROM access_log WHERE outcome = 'allowed')",
    )
}

#[actix_web::test]
async fn a_new_link_kills_the_old_one_and_opens_the_same_frozen_bytes_once() {
    let app = TestApp::spawn().await;
    let (id, req, first) = frozen(&app).await;
    let old = first["download_url"].as_str().unwrap().to_owned();
    let before = chrono::Utc::now();
    let res = relink(&app, &path(&req, &first)).await;
    res.assert_status(201);
    let again = res.json();
    let new = again["download_url"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    for key in ["id", "sha256", "jws"] {
        assert_eq!(again[key], first[key], "{key}");
    }
    let token = new.strip_prefix("/v1/downloads/").unwrap();
    assert_eq!(token.len(), 43);
    // Only the new token's SHA-256 is stored, and its 168 hours count from now.
    let hash = hex(&Sha256::digest(token.as_bytes()));
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM download_links WHERE token_sha256 = '\\x{hash}' AND revoked_at IS NULL"
        )),
        1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM download_links WHERE encode(token_sha256, 'escape') LIKE '%{token}%'"
        )),
        0
    );
    let expires = chrono::DateTime::parse_from_rfc3339(again["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert!(expires >= before + chrono::Duration::hours(168));
    assert!(expires <= chrono::Utc::now() + chrono::Duration::hours(168));
    assert_eq!(
        freezes(&app, &id),
        2,
        "the new link is logged about the subject"
    );

    // The old link is dead, refused and logged; the new one opens the frozen bytes once.
    link(&app, Method::POST, &old)
        .await
        .assert_problem(410, "download-expired");
    let got = link(&app, Method::POST, &new).await;
    got.assert_status(200);
    assert_eq!(
        hex(&Sha256::digest(&got.body)),
        first["sha256"].as_str().unwrap()
    );
    link(&app, Method::POST, &new)
        .await
        .assert_problem(410, "download-used");
    assert_eq!(
        (downloads(&app, "allowed"), downloads(&app, "denied")),
        (1, 2)
    );
    // A used link can be replaced too, while the request is open.
    let third = relink(&app, &path(&req, &first)).await;
    third.assert_status(201);
    let url = third.json()["download_url"].as_str().unwrap().to_owned();
    link(&app, Method::POST, &url).await.assert_status(200);
}

#[actix_web::test]
async fn every_refusal_has_its_answer_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (id, req, first) = frozen(&app).await;
    let other = request(&app, "access", Some(&id)).await;
    let unchanged = state(&app);
    let good = path(&req, &first);
    let nobody = json!({"id": uuid::Uuid::now_v7().to_string()});
    // A response frozen for another request, or none: 404.
    relink(&app, &path(&other, &first))
        .await
        .assert_problem(404, "not-found");
    relink(&app, &path(&req, &nobody))
        .await
        .assert_problem(404, "not-found");
    relink(&app, &path(&nobody, &first))
        .await
        .assert_problem(404, "not-found");
    relink(&app, &good.replace(first["id"].as_str().unwrap(), "x"))
        .await
        .assert_status(400);
    app.call(Method::POST, &good, &[Scope::RequestsWrite], None)
        .await
        .assert_missing_scope("subjects:read");
    app.call(Method::POST, &good, &[Scope::SubjectsRead], None)
        .await
        .assert_missing_scope("requests:write");
    assert_eq!(state(&app), unchanged);
    assert_eq!(
        app.db.count(
            "SELECT 1 FROM access_log WHERE action = 'access_response.freeze' \
             AND outcome = 'denied'"
        ),
        2
    );
    // A closed request takes no new link.
    close(&app, &req).await.assert_status(200);
    let unchanged = state(&app);
    relink(&app, &good)
        .await
        .assert_problem(409, "request-closed");
    assert_eq!(state(&app), unchanged);
    link(&app, Method::POST, first["download_url"].as_str().unwrap())
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn after_erasure_no_new_link_is_issued() {
    let app = TestApp::spawn().await;
    let (id, req, first) = frozen(&app).await;
    app.post(
        &format!("/v1/subjects/{id}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);
    let unchanged = state(&app);
    relink(&app, &path(&req, &first))
        .await
        .assert_problem(410, "subject-erased");
    assert_eq!(state(&app), unchanged);
}

#[actix_web::test]
async fn a_replay_hides_the_link_and_issues_no_other() {
    let app = TestApp::spawn().await;
    let (_, req, first) = frozen(&app).await;
    let path = path(&req, &first);
    let send = || {
        TestRequest::post()
            .uri(&path)
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("Idempotency-Key", "link-1"))
    };
    let one = app.send(send()).await;
    one.assert_status(201);
    let two = app.send(send()).await;
    two.assert_status(201);
    assert_eq!(two.header("idempotent-replayed").as_deref(), Some("true"));
    let (one, two) = (one.json(), two.json());
    assert!(one["download_url"].is_string() && two["download_url"].is_null());
    assert_eq!(one["expires_at"], two["expires_at"]);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM download_links WHERE revoked_at IS NULL"),
        1
    );
    link(&app, Method::POST, one["download_url"].as_str().unwrap())
        .await
        .assert_status(200);
}
