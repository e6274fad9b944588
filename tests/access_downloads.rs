//! Freezing an access response and its one-time download (contract v3, section B): the frozen
//! RFC 8785 JSON, its SHA-256 and detached JWS, the link a scanner cannot spend, the close rule,
//! every refusal with its answer and nothing changed, and erasure.

use crate::harness::{staff, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use planpro_privacy::rights::access_response::freeze::hex;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub async fn subject(app: &TestApp) -> String {
    let res = app
        .post(
            "/v1/subjects",
            json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                   "preferred_language": "et", "source": {"type": "data_subject"}}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().to_owned()
}

pub async fn request(app: &TestApp, kind: &str, subject: Option<&str>) -> Value {
    let res = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": kind, "subject_id": subject, "channel": "email",
                   "received_at": chrono::Utc::now() - chrono::Duration::hours(1)}),
        )
        .await;
    res.assert_status(201);
    res.json()
}

pub async fn freeze(app: &TestApp, request: &Value, body: Value) -> Resp {
    let id = request["id"].as_str().unwrap();
    app.post(&format!("/v1/privacy-requests/{id}/access-response"), body)
        .await
}

pub async fn close(app: &TestApp, request: &Value) -> Resp {
    let version = app.db.scalar(&format!(
        "SELECT version FROM privacy_requests WHERE id = '{}'",
        request["id"].as_str().unwrap()
    ));
    let req = TestRequest::post()
        .uri(&format!(
            "/v1/privacy-requests/{}/close",
            request["id"].as_str().unwrap()
        ))
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .insert_header(("If-Match", format!("\"{version}\"")))
        .set_json(json!({"outcome": "fulfilled"}));
    app.send(req).await
}

pub async fn link(app: &TestApp, method: Method, url: &str) -> Resp {
    app.send(TestRequest::default().method(method).uri(url))
        .await
}

pub fn downloads(app: &TestApp, outcome: &str) -> i64 {
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = 'download.read' AND outcome = '{outcome}' \
         AND actor = 'link:download'"
    ))
}

fn stored(app: &TestApp) -> i64 {
    app.db.count("SELECT 1 FROM access_responses") + app.db.count("SELECT 1 FROM download_links")
}

#[actix_web::test]
async fn a_frozen_response_is_signed_and_its_link_works_once_after_a_page_that_spends_nothing() {
    let app = TestApp::spawn().await;
    let id = subject(&app).await;
    let req = request(&app, "access", Some(&id)).await;
    close(&app, &req)
        .await
        .assert_problem(409, "response-missing");
    let res = freeze(&app, &req, json!({})).await;
    res.assert_status(201);
    let frozen = res.json();
    let url = frozen["download_url"].as_str().unwrap().to_owned();
    let token = url.strip_prefix("/v1/downloads/").unwrap().to_owned();
    assert_eq!(token.len(), 43);
    // Only the token's SHA-256 is stored.
    let hash = hex(&Sha256::digest(token.as_bytes()));
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM download_links WHERE token_sha256 = '\\x{hash}'"
        )),
        1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM download_links WHERE encode(token_sha256, 'escape') LIKE '%{token}%'"
        )),
        0
    );
    let created = chrono::DateTime::parse_from_rfc3339(&app.db.scalar(
        "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM download_links",
    )).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(frozen["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::hours(168));
    assert_eq!(
        app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = 'access_response.freeze' AND subject_id = '{id}' \
         AND outcome = 'allowed'")),
        1
    );

    // The page is the same for any well-formed token, uses nothing and writes nothing.
    let page = link(&app, Method::GET, &url).await;
    page.assert_status(200);
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        page.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    let other = link(
        &app,
        Method::GET,
        &format!("/v1/downloads/{}", "A".repeat(43)),
    )
    .await;
    assert_eq!(page.body, other.body);
    assert!(!String::from_utf8_lossy(&page.body).contains("Mari"));
    link(&app, Method::GET, "/v1/downloads/short")
        .await
        .assert_status(404);
    assert_eq!(downloads(&app, "allowed") + downloads(&app, "denied"), 0);

    let got = link(&app, Method::POST, &url).await;
    got.assert_status(200);
    assert_eq!(
        got.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(got
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(
        hex(&Sha256::digest(&got.body)),
        frozen["sha256"].as_str().unwrap()
    );
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body["lang"], "et", "the subject's preferred language");
    assert_eq!(body["confirmation"]["subject_id"], id.as_str());
    // RFC 8785: the bytes are the canonical form of themselves.
    assert_eq!(serde_json_canonicalizer::to_vec(&body).unwrap(), got.body);
    // The person's copy names no staff member (C-579/21): the staff `sub` became its kind.
    let text = String::from_utf8(got.body.to_vec()).unwrap();
    assert!(
        !text.contains("\"tester\""),
        "a staff sub reached the person"
    );
    assert!(text.contains("\"staff\""), "{text}");
    let jwks = crate::jws::jwks(&app).await;
    let header = crate::jws::verify_detached(frozen["jws"].as_str().unwrap(), &got.body, &jwks);
    assert_eq!(header["typ"], "access-response+jws");
    link(&app, Method::POST, &url)
        .await
        .assert_problem(410, "download-used");
    assert_eq!(
        (downloads(&app, "allowed"), downloads(&app, "denied")),
        (1, 1)
    );
    close(&app, &req).await.assert_status(200);
}

#[actix_web::test]
async fn every_refusal_has_its_answer_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = subject(&app).await;
    let erasure = request(&app, "erasure", Some(&id)).await;
    freeze(&app, &erasure, json!({}))
        .await
        .assert_problem(409, "request-kind-mismatch");
    let anonymous = request(&app, "access", None).await;
    freeze(&app, &anonymous, json!({}))
        .await
        .assert_problem(409, "request-without-subject");
    let access = request(&app, "access", Some(&id)).await;
    let res = freeze(&app, &access, json!({"lang": "fi", "colour": 1})).await;
    res.assert_problem(400, "validation-failed");
    let unknown = json!({"id": uuid::Uuid::now_v7().to_string()});
    freeze(&app, &unknown, json!({}))
        .await
        .assert_problem(404, "not-found");
    let path = format!(
        "/v1/privacy-requests/{}/access-response",
        access["id"].as_str().unwrap()
    );
    app.call(
        Method::POST,
        &path,
        &[Scope::RequestsWrite],
        Some(json!({})),
    )
    .await
    .assert_missing_scope("subjects:read");
    assert_eq!(stored(&app), 0);
    // A closed request takes no response.
    let closed = request(&app, "access", Some(&id)).await;
    let version = closed["version"].clone();
    app.send(
        TestRequest::post()
            .uri(&format!(
                "/v1/privacy-requests/{}/close",
                closed["id"].as_str().unwrap()
            ))
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("If-Match", format!("\"{version}\"")))
            .set_json(json!({"outcome": "withdrawn"})),
    )
    .await
    .assert_status(200);
    freeze(&app, &closed, json!({}))
        .await
        .assert_problem(409, "request-closed");
    assert_eq!(stored(&app), 0);

    // Downloads: malformed and unknown tokens are 404 and write nothing; a bad format is 400;
    // an expired link is 410 and logged.
    link(&app, Method::POST, "/v1/downloads/not-a-token")
        .await
        .assert_status(404);
    link(
        &app,
        Method::POST,
        &format!("/v1/downloads/{}", "B".repeat(43)),
    )
    .await
    .assert_status(404);
    assert_eq!(downloads(&app, "allowed") + downloads(&app, "denied"), 0);
    let frozen = freeze(&app, &access, json!({"lang": "ru"})).await;
    frozen.assert_status(201);
    let url = frozen.json()["download_url"].as_str().unwrap().to_owned();
    link(&app, Method::POST, &format!("{url}?format=pdf"))
        .await
        .assert_problem(400, "validation-failed");
    app.db
        .exec("UPDATE download_links SET expires_at = now() - interval '1 second'");
    link(&app, Method::POST, &url)
        .await
        .assert_problem(410, "download-expired");
    assert_eq!(
        (downloads(&app, "allowed"), downloads(&app, "denied")),
        (0, 1)
    );
}

#[actix_web::test]
async fn a_replay_hides_the_link_and_html_is_the_page_of_the_frozen_response() {
    let app = TestApp::spawn().await;
    let id = subject(&app).await;
    let access = request(&app, "access", Some(&id)).await;
    let path = format!(
        "/v1/privacy-requests/{}/access-response",
        access["id"].as_str().unwrap()
    );
    let send = || {
        TestRequest::post()
            .uri(&path)
            .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
            .insert_header(("Idempotency-Key", "freeze-1"))
            .set_json(json!({"lang": "en"}))
    };
    let first = app.send(send()).await;
    first.assert_status(201);
    let again = app.send(send()).await;
    again.assert_status(201);
    let (first, again) = (first.json(), again.json());
    assert_eq!(first["id"], again["id"]);
    assert!(first["download_url"].is_string() && again["download_url"].is_null());
    assert_eq!(app.db.count("SELECT 1 FROM access_responses"), 1);
    let url = first["download_url"].as_str().unwrap();
    let page = link(&app, Method::POST, &format!("{url}?format=html")).await;
    page.assert_status(200);
    assert_eq!(
        page.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(String::from_utf8_lossy(&page.body).contains("Maasikas"));
}

#[actix_web::test]
async fn after_erasure_nothing_frozen_can_be_opened() {
    let app = TestApp::spawn().await;
    let id = subject(&app).await;
    let access = request(&app, "access", Some(&id)).await;
    let frozen = freeze(&app, &access, json!({})).await;
    frozen.assert_status(201);
    let url = frozen.json()["download_url"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/subjects/{id}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);
    link(&app, Method::POST, &url)
        .await
        .assert_problem(410, "subject-erased");
    assert_eq!(downloads(&app, "denied"), 1);
    app.get(&format!("/v1/subjects/{id}/access-response"))
        .await
        .assert_problem(410, "subject-erased");
    // The subject's key is gone, so the sealed response is unreadable by anyone.
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM subject_keys WHERE subject_id = '{id}'"
        )),
        0
    );
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_responses WHERE json_enc IS NOT NULL"),
        1
    );
    freeze(&app, &access, json!({}))
        .await
        .assert_problem(410, "subject-erased");
}

#[actix_web::test]
async fn the_download_page_speaks_the_language_asked_for() {
    let app = TestApp::spawn().await;
    let url = format!("/v1/downloads/{}", "A".repeat(43));
    let all = link(&app, Method::GET, &url).await;
    all.assert_status(200);
    let all = String::from_utf8(all.body).unwrap();
    assert!(all.contains("lang=\"et\"") && all.contains("Ответ") && all.contains("The link"));
    for (lang, own, foreign) in [
        ("et", "Lingi saab kasutada", "The link can be used"),
        ("en", "The link can be used", "Ссылкой"),
        ("ru", "Ссылкой можно", "Lingi saab"),
    ] {
        let res = link(&app, Method::GET, &format!("{url}?lang={lang}")).await;
        res.assert_status(200);
        let page = String::from_utf8(res.body).unwrap();
        assert!(page.contains(&format!("<html lang=\"{lang}\">")), "{page}");
        assert!(
            page.contains(own) && !page.contains(foreign),
            "{lang}: {page}"
        );
    }
    let res = link(&app, Method::GET, &format!("{url}?lang=fi")).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["lang"]);
    // The page's form posts to its own address, `lang` included: the use accepts it.
    link(&app, Method::POST, &format!("{url}?lang=ru"))
        .await
        .assert_problem(404, "not-found");
}
