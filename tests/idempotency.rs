//! Idempotent retries: the first answer again, one more access-log entry, nothing else changed.

use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

async fn keyed(
    app: &TestApp,
    actor: &str,
    method: Method,
    path: &str,
    key: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Resp {
    let mut req = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header((
            "Authorization",
            format!("Bearer {}", token_for(actor, &staff(), None)),
        ))
        .insert_header(("Idempotency-Key", key))
        .set_json(body);
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

fn subject(name: &str) -> Value {
    json!({"kind": "client", "given_name": name, "family_name": "Maasikas",
           "source": {"type": "data_subject"}})
}

fn same_answer(first: &Resp, again: &Resp) {
    assert_eq!(first.status, again.status);
    assert_eq!(first.body, again.body);
    for header in ["location", "etag"] {
        assert_eq!(first.header(header), again.header(header), "{header}");
    }
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
}

#[actix_web::test]
async fn a_retried_create_gets_the_first_answer_and_one_more_entry_only() {
    let app = TestApp::spawn().await;
    let first = keyed(
        &app,
        "tester",
        Method::POST,
        "/v1/subjects",
        "k-1",
        &subject("Mari"),
        None,
    )
    .await;
    first.assert_status(201);
    let again = keyed(
        &app,
        "tester",
        Method::POST,
        "/v1/subjects",
        "\"k-1\"",
        &subject("Mari"),
        None,
    )
    .await;
    same_answer(&first, &again);
    let id = first.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 1);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'subject.create' AND subject_id = '{id}'"
        )),
        2
    );
    // Another body under the key is refused; another actor's key is another key.
    let other = keyed(
        &app,
        "tester",
        Method::POST,
        "/v1/subjects",
        "k-1",
        &subject("Jüri"),
        None,
    )
    .await;
    other.assert_problem(422, "idempotency-key-reused");
    let theirs = keyed(
        &app,
        "someone",
        Method::POST,
        "/v1/subjects",
        "k-1",
        &subject("Jüri"),
        None,
    )
    .await;
    theirs.assert_status(201);
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 2);
    // After 24 hours a key is free again.
    app.db
        .exec("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'");
    let later = keyed(
        &app,
        "tester",
        Method::POST,
        "/v1/subjects",
        "k-1",
        &subject("Jüri"),
        None,
    )
    .await;
    later.assert_status(201);
    assert!(later.header("idempotent-replayed").is_none());
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 3);
}

#[actix_web::test]
async fn consent_changes_rectifications_and_disclosures_are_not_made_twice() {
    let app = TestApp::spawn().await;
    let created = app.post("/v1/subjects", subject("Mari")).await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let put = format!("/v1/subjects/{id}/consents/marketing_partners");
    let change = json!({"status": "granted", "method": "web_form", "evidence": "form 7"});
    let first = keyed(&app, "tester", Method::PUT, &put, "c-1", &change, None).await;
    first.assert_status(200);
    let again = keyed(&app, "tester", Method::PUT, &put, "c-1", &change, None).await;
    same_answer(&first, &again);
    assert_eq!(app.db.count("SELECT 1 FROM consent_events"), 1);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'consent.change'"),
        2
    );
    let withdraw = json!({"status": "withdrawn", "method": "web_form"});
    keyed(&app, "tester", Method::PUT, &put, "c-1", &withdraw, None)
        .await
        .assert_problem(422, "idempotency-key-reused");

    let patch = json!({"reason": "asked", "family_name": "Tamm"});
    let path = format!("/v1/subjects/{id}");
    let first = keyed(
        &app,
        "tester",
        Method::PATCH,
        &path,
        "p-1",
        &patch,
        Some("\"1\""),
    )
    .await;
    first.assert_status(200);
    // The retry repeats the answer although its If-Match is stale by now.
    let again = keyed(
        &app,
        "tester",
        Method::PATCH,
        &path,
        "p-1",
        &patch,
        Some("\"1\""),
    )
    .await;
    same_answer(&first, &again);
    assert_eq!(app.db.count("SELECT 1 FROM rectifications"), 1);

    let recipient = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                                       "contact_email": "dpo@partner.ee"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disclosure =
        json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "email"});
    let record = format!("/v1/subjects/{id}/disclosures");
    // A refusal is not stored: once authorized, the same key records the disclosure.
    keyed(
        &app,
        "tester",
        Method::POST,
        &record,
        "d-1",
        &disclosure,
        None,
    )
    .await
    .assert_problem(403, "disclosure-not-authorized");
    app.post(
        &format!("/v1/subjects/{id}/disclosure-authorizations"),
        json!({"recipient_id": recipient, "legal_basis": "consent", "consent_evidence": "form",
               "data_categories": ["identity"], "purpose": "offers"}),
    )
    .await
    .assert_status(201);
    let first = keyed(
        &app,
        "tester",
        Method::POST,
        &record,
        "d-1",
        &disclosure,
        None,
    )
    .await;
    first.assert_status(201);
    let again = keyed(
        &app,
        "tester",
        Method::POST,
        &record,
        "d-1",
        &disclosure,
        None,
    )
    .await;
    same_answer(&first, &again);
    assert_eq!(app.db.count("SELECT 1 FROM disclosures"), 1);
}

#[actix_web::test]
async fn a_key_in_flight_is_a_409_and_a_malformed_key_a_400() {
    let app = TestApp::spawn().await;
    // Hold the key's lock as a request in flight would.
    let mut hasher = Sha256::new();
    for part in ["tester", "POST", "/v1/subjects", "busy"] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let hash = hasher.finalize();
    let lock = i64::from_be_bytes(hash[..8].try_into().unwrap());
    let mut holder = app.db.conn();
    holder
        .batch_execute(&format!("SELECT pg_advisory_lock({lock})"))
        .unwrap();
    keyed(
        &app,
        "tester",
        Method::POST,
        "/v1/subjects",
        "busy",
        &subject("Mari"),
        None,
    )
    .await
    .assert_problem(409, "idempotency-key-in-use");
    let path = "/v1/subjects".to_owned();
    for bad in ["", "a b", &"k".repeat(129), "\"unterminated"] {
        let res = keyed(
            &app,
            "tester",
            Method::POST,
            &path,
            bad,
            &subject("Mari"),
            None,
        )
        .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["Idempotency-Key"]);
    }
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 0);
    holder
        .batch_execute(&format!("SELECT pg_advisory_unlock({lock})"))
        .unwrap();
    keyed(
        &app,
        "tester",
        Method::POST,
        "/v1/subjects",
        "busy",
        &subject("Mari"),
        None,
    )
    .await
    .assert_status(201);
}

#[actix_web::test]
async fn privacy_requests_and_their_extension_are_not_made_twice() {
    let app = TestApp::spawn().await;
    let created = app.post("/v1/subjects", subject("Mari")).await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let received = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let body =
        json!({"kind": "access", "subject_id": id, "channel": "email", "received_at": received});
    let first = keyed(
        &app,
        "tester",
        Method::POST,
        "/v1/privacy-requests",
        "r-1",
        &body,
        None,
    )
    .await;
    first.assert_status(201);
    let again = keyed(
        &app,
        "tester",
        Method::POST,
        "/v1/privacy-requests",
        "r-1",
        &body,
        None,
    )
    .await;
    same_answer(&first, &again);
    assert_eq!(app.db.count("SELECT 1 FROM privacy_requests"), 1);
    let request = first.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/privacy-requests/{request}/extend");
    let informed = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let extension = json!({"reason": "many files", "subject_informed_at": informed});
    let first = keyed(
        &app,
        "tester",
        Method::POST,
        &path,
        "e-1",
        &extension,
        Some("\"1\""),
    )
    .await;
    first.assert_status(200);
    let again = keyed(
        &app,
        "tester",
        Method::POST,
        &path,
        "e-1",
        &extension,
        Some("\"1\""),
    )
    .await;
    same_answer(&first, &again);
    // The replay's entry is about the request's subject, like the original's.
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'request.update' AND subject_id = '{id}'"
        )),
        2
    );
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT version FROM privacy_requests WHERE id = '{request}'"
        )),
        "2"
    );
}

/// A create retried after its subject was erased would bring the person back, personal code and
/// all: the stored answer no longer opens (its key is gone), and the retry is 410, not a create.
#[actix_web::test]
async fn a_create_retried_after_the_erasure_is_410_and_creates_no_one() {
    let app = TestApp::spawn().await;
    let mut person = subject("Mari");
    person["personal_code"] = json!("49403136526");
    let create = |key: &'static str| {
        keyed(
            &app,
            "tester",
            Method::POST,
            "/v1/subjects",
            key,
            &person,
            None,
        )
    };
    let first = create("c-1").await;
    first.assert_status(201);
    let id = first.json()["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/subjects/{id}/erasure"),
        json!({"reason": "asked for"}),
    )
    .await
    .assert_status(200);
    create("c-1").await.assert_problem(410, "subject-erased");
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 1);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM subjects WHERE erased_at IS NULL"),
        0
    );
    // A new request (another key) may register the code again: that is a new person's record.
    create("c-2").await.assert_status(201);
}

/// `If-Match: *` matches any current version (RFC 9110): a change with it goes through, and on an
/// erased subject it meets the erasure (410), not a demand for a precondition (428).
#[actix_web::test]
async fn if_match_star_matches_any_current_version() {
    let app = TestApp::spawn().await;
    let id = app.post("/v1/subjects", subject("Mari")).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/subjects/{id}");
    let body = json!({"reason": "asked", "given_name": "Maria"});
    let patch =
        |key: &'static str| keyed(&app, "tester", Method::PATCH, &path, key, &body, Some("*"));
    let changed = patch("p-1").await;
    changed.assert_status(200);
    assert_eq!(changed.json()["given_name"], "Maria");
    app.post(
        &format!("/v1/subjects/{id}/erasure"),
        json!({"reason": "asked for"}),
    )
    .await
    .assert_status(200);
    patch("p-2").await.assert_problem(410, "subject-erased");
}

#[actix_web::test]
async fn a_retried_webhook_registration_makes_one_webhook_and_never_repeats_its_secret() {
    let app = TestApp::spawn().await;
    let recipient = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "privacy@partner.ee"}),
        )
        .await;
    recipient.assert_status(201);
    let path = format!(
        "/v1/recipients/{}/webhooks",
        recipient.json()["id"].as_str().unwrap()
    );
    let body = json!({"url": "http://127.0.0.1:9/hook"});
    let first = keyed(&app, "tester", Method::POST, &path, "hook-1", &body, None).await;
    first.assert_status(201);
    let secret = first.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert!(first.header("idempotent-replayed").is_none());
    let again = keyed(&app, "tester", Method::POST, &path, "hook-1", &body, None).await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    let (mut shown, replayed) = (first.json(), again.json());
    assert!(replayed["secret"].is_null(), "{replayed}");
    shown["secret"] = Value::Null;
    assert_eq!(shown, replayed);
    assert_eq!(app.db.count("SELECT 1 FROM webhooks"), 1);
    // The key with another body is refused; a new key makes a second webhook.
    let other = json!({"url": "http://127.0.0.1:10/hook"});
    keyed(&app, "tester", Method::POST, &path, "hook-1", &other, None)
        .await
        .assert_problem(422, "idempotency-key-reused");
    keyed(&app, "tester", Method::POST, &path, "hook-2", &other, None)
        .await
        .assert_status(201);
    assert_eq!(app.db.count("SELECT 1 FROM webhooks"), 2);
}
