//! Disclosure authorizations, staff disclosure records, the partner endpoints and their access
//! log entries.

use crate::harness::{staff, subject_data, token_for, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{Duration, Utc};
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use uuid::Uuid;

// ---------------------------------------------------------------- arrangement helpers

/// Inserts a subject directly (the subjects endpoints are another module's), with every field
/// filled in and a `personal_code` unique per call.
fn insert_subject(app: &TestApp) -> Uuid {
    let id = Uuid::now_v7();
    let code = format!("3{:010}", app.db.count("SELECT 1 FROM subjects") + 1);
    let mut data = subject_data("Mari", "Maasikas");
    data.personal_code = Some(code);
    data.email = Some("mari@example.ee".into());
    data.phone = Some("+3725551234".into());
    data.address_street = Some("Tamme 1".into());
    data.address_city = Some("Tartu".into());
    data.address_postal_code = Some("50101".into());
    data.address_country = Some("EE".into());
    data.source_type = "public_registry".into();
    data.source_name = Some("Äriregister".into());
    app.db.insert_subject(id, data);
    id
}

async fn create_recipient(app: &TestApp, name: &str) -> Uuid {
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": name, "category": "platform_service_provider", "contact_email": "dpo@partner.ee"}),
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

fn id_of(value: &Value) -> Uuid {
    Uuid::parse_str(value["id"].as_str().expect("an id")).expect("a UUID")
}

fn consent(recipient: Uuid, categories: &[&str]) -> Value {
    json!({
        "recipient_id": recipient,
        "legal_basis": "consent",
        "consent_evidence": "signed form 2026-11-20",
        "data_categories": categories,
        "purpose": "offers for the detailed plan"
    })
}

async fn authorize(app: &TestApp, subject: Uuid, body: Value) -> Value {
    let res = app
        .post(
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            body,
        )
        .await;
    res.assert_status(201);
    res.json()
}

async fn grant(app: &TestApp, subject: Uuid, recipient: Uuid, categories: &[&str]) -> Uuid {
    id_of(&authorize(app, subject, consent(recipient, categories)).await)
}

async fn suspend(app: &TestApp, recipient: Uuid) {
    let version = app.db.scalar(&format!(
        "SELECT version FROM recipients WHERE id = '{recipient}'"
    ));
    let req = TestRequest::patch()
        .uri(&format!("/v1/recipients/{recipient}"))
        .insert_header((
            "Authorization",
            format!("Bearer {}", token_for("tester", &staff(), None)),
        ))
        .insert_header(("If-Match", format!("\"{version}\"")))
        .set_json(json!({"status": "suspended"}));
    app.send(req).await.assert_status(200);
}

fn partner_token(recipient: Uuid) -> String {
    token_for(
        &format!("partner-{recipient}"),
        &[Scope::Partner],
        Some(recipient),
    )
}

async fn as_token(app: &TestApp, token: &str, path: &str) -> Resp {
    app.send(
        TestRequest::get()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
}

async fn partner_get(app: &TestApp, recipient: Uuid, path: &str) -> Resp {
    as_token(app, &partner_token(recipient), path).await
}

async fn record(app: &TestApp, subject: Uuid, recipient: Uuid, categories: &[&str]) -> Resp {
    app.post(
        &format!("/v1/subjects/{subject}/disclosures"),
        json!({"recipient_id": recipient, "data_categories": categories, "channel": "email",
               "note": "sent on request"}),
    )
    .await
}

fn log_count(app: &TestApp, action: &str, outcome: &str, subject: Option<Uuid>) -> i64 {
    let subject = match subject {
        Some(id) => format!("subject_id = '{id}'"),
        None => "subject_id IS NULL".to_owned(),
    };
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = '{action}' AND outcome = '{outcome}' AND {subject}"
    ))
}

/// Asserts that the subject's disclosure row and its `action` entry were committed by one
/// transaction (the row's `xmin` is the low 32 bits of the entry's `txid`).
#[track_caller]
fn assert_same_transaction(app: &TestApp, action: &str, subject: Uuid) {
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log a JOIN disclosures d ON d.request_id = a.request_id \
             WHERE a.action = '{action}' AND a.subject_id = '{subject}' \
             AND d.subject_id = '{subject}' AND (a.txid % 4294967296)::text = d.xmin::text"
        )),
        1
    );
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn count(app: &TestApp, table: &str) -> i64 {
    app.db.count(&format!("SELECT 1 FROM {table}"))
}

// ---------------------------------------------------------------- authorizations

#[actix_web::test]
async fn a_consent_authorization_is_stored_with_every_field_and_logged() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let res = app
        .post(
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            consent(recipient, &["contact", "identity"]),
        )
        .await;
    res.assert_status(201);
    let body = res.json();
    let id = id_of(&body);
    assert_eq!(
        res.header("location").unwrap(),
        format!("/v1/subjects/{subject}/disclosure-authorizations/{id}")
    );
    assert!(res.header("etag").is_some());
    assert_eq!(body["subject_id"], subject.to_string());
    assert_eq!(body["recipient_id"], recipient.to_string());
    assert_eq!(body["legal_basis"], "consent");
    assert_eq!(body["consent_evidence"], "signed form 2026-11-20");
    assert_eq!(body["legal_reference"], Value::Null);
    assert_eq!(body["data_categories"], json!(["identity", "contact"]));
    assert_eq!(body["purpose"], "offers for the detailed plan");
    assert!(body["valid_from"].is_string());
    assert_eq!(body["valid_until"], Value::Null);
    assert_eq!(body["revoked_at"], Value::Null);
    assert_eq!(body["revoked_reason"], Value::Null);
    assert_eq!(body["active"], true);
    assert_eq!(body["created_by"], "tester");
    assert!(body["created_at"].is_string());
    assert_eq!(count(&app, "disclosure_authorizations"), 1);
    assert_eq!(
        log_count(&app, "disclosure.authorize", "allowed", Some(subject)),
        1
    );

    // The Location answers.
    let one = app.get(&res.header("location").unwrap()).await;
    one.assert_status(200);
    assert_eq!(one.json(), body);
    assert_eq!(
        log_count(&app, "disclosure.read", "allowed", Some(subject)),
        1
    );
}

#[actix_web::test]
async fn a_legal_obligation_needs_its_reference_and_consent_its_evidence() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Tartu Linnavalitsus").await;
    let path = format!("/v1/subjects/{subject}/disclosure-authorizations");

    let res = app
        .post(
            &path,
            json!({"recipient_id": recipient, "legal_basis": "consent",
                   "data_categories": ["identity"], "purpose": "p"}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["consent_evidence"]);

    let res = app
        .post(
            &path,
            json!({"recipient_id": recipient, "legal_basis": "legal_obligation",
                   "consent_evidence": "irrelevant", "data_categories": ["identity"], "purpose": "p"}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["legal_reference"]);

    let res = app
        .post(
            &path,
            json!({"recipient_id": recipient, "legal_basis": "consent", "consent_evidence": "  ",
                   "data_categories": ["identity"], "purpose": "p"}),
        )
        .await;
    assert_eq!(res.bad_fields(), ["consent_evidence"]);
    assert_eq!(count(&app, "disclosure_authorizations"), 0);
    assert_eq!(count(&app, "access_log"), 0);

    let body = authorize(
        &app,
        subject,
        json!({"recipient_id": recipient, "legal_basis": "legal_obligation",
               "legal_reference": "Planeerimisseadus § 81", "data_categories": ["address"],
               "purpose": "detailed plan proceedings"}),
    )
    .await;
    assert_eq!(body["legal_basis"], "legal_obligation");
    assert_eq!(body["legal_reference"], "Planeerimisseadus § 81");
    assert_eq!(body["active"], true);
}

#[actix_web::test]
async fn bad_categories_purpose_and_validity_are_named_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let path = format!("/v1/subjects/{subject}/disclosure-authorizations");
    let cases = [
        (json!({"data_categories": []}), "data_categories"),
        (
            json!({"data_categories": ["identity", "identity"]}),
            "data_categories",
        ),
        (json!({"purpose": ""}), "purpose"),
        (json!({"legal_basis": "legitimate_interest"}), "legal_basis"),
        (json!({"recipient_id": "nope"}), "recipient_id"),
        (
            json!({"valid_until": "2020-01-01T00:00:00Z"}),
            "valid_until",
        ),
        (
            json!({"valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z"}),
            "valid_until",
        ),
        (json!({"valid_from": "yesterday"}), "valid_from"),
        (json!({"active": true}), "active"),
        (json!({"revoked_at": "2030-01-01T00:00:00Z"}), "revoked_at"),
    ];
    for (change, field) in cases {
        let mut body = consent(recipient, &["identity"]);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app.post(&path, body).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), [field], "{change}");
    }
    // An unknown category is named by its position.
    let res = app
        .post(&path, consent(recipient, &["identity", "health"]))
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["data_categories[1]"]);
    let mut missing = consent(recipient, &["identity"]);
    missing.as_object_mut().unwrap().remove("purpose");
    missing.as_object_mut().unwrap().remove("data_categories");
    assert_eq!(
        app.post(&path, missing).await.bad_fields(),
        ["data_categories", "purpose"]
    );
    assert_eq!(count(&app, "disclosure_authorizations"), 0);
    assert_eq!(count(&app, "access_log"), 0);
}

#[actix_web::test]
async fn unknown_subject_is_404_and_unknown_recipient_names_recipient_id() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    app.post(
        &format!("/v1/subjects/{}/disclosure-authorizations", Uuid::now_v7()),
        consent(recipient, &["identity"]),
    )
    .await
    .assert_problem(404, "not-found");
    let res = app
        .post(
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            consent(Uuid::now_v7(), &["identity"]),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["recipient_id"]);
    app.get(&format!(
        "/v1/subjects/{}/disclosure-authorizations",
        Uuid::now_v7()
    ))
    .await
    .assert_problem(404, "not-found");
    app.get(&format!(
        "/v1/subjects/{subject}/disclosure-authorizations/{}",
        Uuid::now_v7()
    ))
    .await
    .assert_problem(404, "not-found");
    assert_eq!(count(&app, "disclosure_authorizations"), 0);
    assert_eq!(count(&app, "access_log"), 0);
}

#[actix_web::test]
async fn the_list_shows_every_authorization_with_its_computed_active_flag() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let other_subject = insert_subject(&app);
    let a = create_recipient(&app, "A").await;
    let b = create_recipient(&app, "B").await;
    let now = Utc::now();
    let active = grant(&app, subject, a, &["identity"]).await;
    let mut expired = consent(a, &["contact"]);
    expired["valid_from"] = json!(now - Duration::days(2));
    expired["valid_until"] = json!(now - Duration::days(1));
    let expired = id_of(&authorize(&app, subject, expired).await);
    let mut future = consent(a, &["address"]);
    future["valid_from"] = json!(now + Duration::days(1));
    let future = id_of(&authorize(&app, subject, future).await);
    let revoked = grant(&app, subject, a, &["personal_code"]).await;
    app.post(
        &format!("/v1/subjects/{subject}/disclosure-authorizations/{revoked}/revoke"),
        json!({"reason": "consent withdrawn"}),
    )
    .await
    .assert_status(200);
    let of_suspended = grant(&app, subject, b, &["identity"]).await;
    suspend(&app, b).await;
    grant(&app, other_subject, a, &["identity"]).await;

    let res = app
        .get(&format!("/v1/subjects/{subject}/disclosure-authorizations"))
        .await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(keys(&body), set(&["items"]));
    let flags: Vec<(Uuid, bool)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (id_of(a), a["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        flags,
        [
            (active, true),
            (expired, false),
            (future, false),
            (revoked, false),
            (of_suspended, false)
        ]
    );
    assert_eq!(
        log_count(&app, "disclosure.read", "allowed", Some(subject)),
        1
    );
}

#[actix_web::test]
async fn revocation_stops_the_authorization_and_a_second_one_is_409() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let other = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let aid = grant(&app, subject, recipient, &["contact"]).await;
    let path = format!("/v1/subjects/{subject}/disclosure-authorizations/{aid}/revoke");

    let res = app.post(&path, json!({"reason": ""})).await;
    assert_eq!(res.bad_fields(), ["reason"]);
    let res = app.post(&path, json!({})).await;
    assert_eq!(res.bad_fields(), ["reason"]);
    // Another subject's path does not reach it.
    app.post(
        &format!("/v1/subjects/{other}/disclosure-authorizations/{aid}/revoke"),
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(404, "not-found");
    assert_eq!(log_count(&app, "disclosure.revoke", "allowed", None), 0);
    assert_eq!(
        count(&app, "access_log WHERE action = 'disclosure.revoke'"),
        0
    );

    partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}"))
        .await
        .assert_status(200);

    let res = app
        .post(&path, json!({"reason": "consent withdrawn by e-mail"}))
        .await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["active"], false);
    assert_eq!(body["revoked_reason"], "consent withdrawn by e-mail");
    assert_eq!(body["revoked_by"], "tester");
    assert!(body["revoked_at"].is_string());
    assert!(res.header("etag").is_some());
    assert_eq!(
        log_count(&app, "disclosure.revoke", "allowed", Some(subject)),
        1
    );

    let again = app.post(&path, json!({"reason": "again"})).await;
    again.assert_problem(409, "conflict");
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT revoked_reason FROM disclosure_authorizations WHERE id = '{aid}'"
        )),
        "consent withdrawn by e-mail"
    );
    assert_eq!(
        log_count(&app, "disclosure.revoke", "allowed", Some(subject)),
        1
    );

    partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}"))
        .await
        .assert_problem(403, "disclosure-not-authorized");
    record(&app, subject, recipient, &["contact"])
        .await
        .assert_problem(403, "disclosure-not-authorized");
}

#[actix_web::test]
async fn authorization_endpoints_need_their_scopes_and_log_refusals() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let path = format!("/v1/subjects/{subject}/disclosure-authorizations");
    app.call(
        Method::POST,
        &path,
        &[Scope::DisclosuresRead],
        Some(consent(recipient, &["identity"])),
    )
    .await
    .assert_problem(403, "insufficient-scope");
    assert_eq!(
        log_count(&app, "disclosure.authorize", "denied", Some(subject)),
        1
    );
    app.call(Method::GET, &path, &[Scope::DisclosuresWrite], None)
        .await
        .assert_problem(403, "insufficient-scope");
    assert_eq!(
        log_count(&app, "disclosure.read", "denied", Some(subject)),
        1
    );
    let aid = grant(&app, subject, recipient, &["identity"]).await;
    app.call(
        Method::POST,
        &format!("{path}/{aid}/revoke"),
        &[Scope::DisclosuresRead],
        Some(json!({"reason": "x"})),
    )
    .await
    .assert_problem(403, "insufficient-scope");
    assert_eq!(
        log_count(&app, "disclosure.revoke", "denied", Some(subject)),
        1
    );
    // A partner token, even of the authorized recipient, cannot use staff endpoints.
    let partner = partner_token(recipient);
    as_token(&app, &partner, &path)
        .await
        .assert_problem(403, "insufficient-scope");
    as_token(
        &app,
        &partner,
        &format!("/v1/subjects/{subject}/disclosures"),
    )
    .await
    .assert_problem(403, "insufficient-scope");
    let res = app
        .send(
            TestRequest::post()
                .uri(&format!("/v1/subjects/{subject}/disclosures"))
                .insert_header(("Authorization", format!("Bearer {partner}")))
                .set_json(json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "api"})),
        )
        .await;
    res.assert_problem(403, "insufficient-scope");
    assert_eq!(count(&app, "disclosures"), 0);
    app.send(TestRequest::get().uri(&path))
        .await
        .assert_problem(401, "unauthorized");
}

// ---------------------------------------------------------------- staff disclosure records

#[actix_web::test]
async fn a_covered_staff_disclosure_is_recorded_with_its_authorizations_and_logged() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let aid = grant(&app, subject, recipient, &["identity", "contact"]).await;
    let res = record(&app, subject, recipient, &["contact"]).await;
    res.assert_status(201);
    let body = res.json();
    assert_eq!(body["recipient_id"], recipient.to_string());
    assert_eq!(body["data_categories"], json!(["contact"]));
    assert_eq!(body["channel"], "email");
    assert_eq!(body["note"], "sent on request");
    assert_eq!(body["actor"], "tester");
    assert_eq!(body["authorization_ids"], json!([aid]));
    assert!(body["at"].is_string());
    let did = id_of(&body);
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT authorization_ids::text FROM disclosures WHERE id = '{did}'"
        )),
        format!("{{{aid}}}")
    );
    assert_eq!(
        log_count(&app, "disclosure.record", "allowed", Some(subject)),
        1
    );
    assert_eq!(
        log_count(&app, "disclosure.record", "denied", Some(subject)),
        0
    );
    assert_same_transaction(&app, "disclosure.record", subject);
}

#[actix_web::test]
async fn two_authorizations_together_may_cover_a_disclosure() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let first = grant(&app, subject, recipient, &["identity"]).await;
    let second = grant(&app, subject, recipient, &["address"]).await;
    let unused = grant(&app, subject, recipient, &["personal_code"]).await;
    let res = record(&app, subject, recipient, &["address", "identity"]).await;
    res.assert_status(201);
    let used: BTreeSet<String> = res.json()["authorization_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(used, set(&[&first.to_string(), &second.to_string()]));
    assert!(!used.contains(&unused.to_string()));
    // Not covered together: contact has no authorization.
    record(&app, subject, recipient, &["identity", "contact"])
        .await
        .assert_problem(403, "disclosure-not-authorized");
    assert_eq!(count(&app, "disclosures"), 1);
}

#[actix_web::test]
async fn an_uncovered_staff_disclosure_is_refused_logged_and_not_recorded() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let other_subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let other_recipient = create_recipient(&app, "Other OÜ").await;
    // Authorizations of another recipient, or for another subject, do not count.
    grant(&app, subject, other_recipient, &["identity"]).await;
    grant(&app, other_subject, recipient, &["identity"]).await;
    let res = record(&app, subject, recipient, &["identity"]).await;
    let problem = res.assert_problem(403, "disclosure-not-authorized");
    assert!(problem["detail"].as_str().unwrap().contains("identity"));
    assert_eq!(count(&app, "disclosures"), 0);
    assert_eq!(
        log_count(&app, "disclosure.record", "denied", Some(subject)),
        1
    );
    assert_eq!(
        log_count(&app, "disclosure.record", "allowed", Some(subject)),
        0
    );

    // Bad input is a 400 and not an attempt at all.
    let res = app
        .post(
            &format!("/v1/subjects/{subject}/disclosures"),
            json!({"recipient_id": recipient, "data_categories": [], "channel": ""}),
        )
        .await;
    assert_eq!(res.bad_fields(), ["channel", "data_categories"]);
    let res = record(&app, subject, Uuid::now_v7(), &["identity"]).await;
    assert_eq!(res.bad_fields(), ["recipient_id"]);
    record(&app, Uuid::now_v7(), recipient, &["identity"])
        .await
        .assert_problem(404, "not-found");
    assert_eq!(count(&app, "disclosures"), 0);
    assert_eq!(
        log_count(&app, "disclosure.record", "denied", Some(subject)),
        1
    );
}

/// Each way an authorization can be inactive, arranged on a fresh subject and recipient.
async fn arrange_inactive(app: &TestApp, state: &str) -> (Uuid, Uuid) {
    let subject = insert_subject(app);
    let recipient = create_recipient(app, state).await;
    let now = Utc::now();
    let mut body = consent(recipient, &["identity", "contact"]);
    match state {
        "revoked" => {
            let aid = id_of(&authorize(app, subject, body).await);
            app.post(
                &format!("/v1/subjects/{subject}/disclosure-authorizations/{aid}/revoke"),
                json!({"reason": "withdrawn"}),
            )
            .await
            .assert_status(200);
        }
        "expired" => {
            body["valid_from"] = json!(now - Duration::days(30));
            body["valid_until"] = json!(now - Duration::seconds(1));
            authorize(app, subject, body).await;
        }
        "not yet valid" => {
            body["valid_from"] = json!(now + Duration::hours(1));
            authorize(app, subject, body).await;
        }
        "recipient suspended" => {
            authorize(app, subject, body).await;
            suspend(app, recipient).await;
        }
        other => panic!("unknown state {other}"),
    }
    (subject, recipient)
}

#[actix_web::test]
async fn every_inactive_state_refuses_staff_records_and_partner_reads() {
    let app = TestApp::spawn().await;
    for state in ["revoked", "expired", "not yet valid", "recipient suspended"] {
        let (subject, recipient) = arrange_inactive(&app, state).await;
        let listed = app
            .get(&format!("/v1/subjects/{subject}/disclosure-authorizations"))
            .await
            .json();
        assert_eq!(listed["items"][0]["active"], false, "{state}");
        record(&app, subject, recipient, &["identity"])
            .await
            .assert_problem(403, "disclosure-not-authorized");
        partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}"))
            .await
            .assert_problem(403, "disclosure-not-authorized");
        assert_eq!(
            log_count(&app, "disclosure.record", "denied", Some(subject)),
            1,
            "{state}"
        );
        assert_eq!(
            log_count(&app, "partner.read", "denied", Some(subject)),
            1,
            "{state}"
        );
        if state == "recipient suspended" {
            partner_get(&app, recipient, "/v1/partner/subjects")
                .await
                .assert_problem(403, "disclosure-not-authorized");
            assert_eq!(log_count(&app, "partner.list", "denied", None), 1);
        } else {
            let list = partner_get(&app, recipient, "/v1/partner/subjects").await;
            list.assert_status(200);
            assert_eq!(list.json()["items"], json!([]), "{state}");
        }
    }
    assert_eq!(count(&app, "disclosures"), 0);
    assert_eq!(
        count(
            &app,
            "access_log WHERE outcome = 'allowed' AND action LIKE 'partner.%'"
        ),
        0
    );
}

#[actix_web::test]
async fn a_resumed_recipient_receives_again() {
    let app = TestApp::spawn().await;
    let (subject, recipient) = arrange_inactive(&app, "recipient suspended").await;
    let req = TestRequest::patch()
        .uri(&format!("/v1/recipients/{recipient}"))
        .insert_header((
            "Authorization",
            format!("Bearer {}", token_for("tester", &staff(), None)),
        ))
        .insert_header(("If-Match", "\"2\""))
        .set_json(json!({"status": "active"}));
    app.send(req).await.assert_status(200);
    partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}"))
        .await
        .assert_status(200);
    record(&app, subject, recipient, &["identity"])
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn the_disclosure_list_pages_and_is_logged() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    grant(&app, subject, recipient, &["identity", "contact"]).await;
    for _ in 0..2 {
        record(&app, subject, recipient, &["identity"])
            .await
            .assert_status(201);
    }
    partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}"))
        .await
        .assert_status(200);
    let path = format!("/v1/subjects/{subject}/disclosures");
    let first = app.get(&format!("{path}?limit=2")).await;
    first.assert_status(200);
    let first = first.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let item = &first["items"][0];
    for key in [
        "id",
        "recipient_id",
        "data_categories",
        "channel",
        "note",
        "actor",
        "at",
    ] {
        assert!(item.get(key).is_some(), "{key} missing");
    }
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("{path}?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    let partner_row = &second["items"][0];
    assert_eq!(partner_row["channel"], "partner_api");
    assert_eq!(
        partner_row["data_categories"],
        json!(["identity", "contact"])
    );
    assert_eq!(partner_row["actor"], format!("partner-{recipient}"));
    assert_eq!(
        log_count(&app, "disclosure.read", "allowed", Some(subject)),
        2
    );
    let res = app.get(&format!("{path}?cursor=bogus")).await;
    assert_eq!(res.bad_fields(), ["cursor"]);
    app.get(&format!("/v1/subjects/{}/disclosures", Uuid::now_v7()))
        .await
        .assert_problem(404, "not-found");
}

// ---------------------------------------------------------------- partner endpoints

#[actix_web::test]
async fn partners_receive_exactly_the_fields_of_their_categories() {
    let app = TestApp::spawn().await;
    let cases: [(&[&str], &[&str]); 6] = [
        (&["contact"], &["id", "email", "phone"]),
        (&["identity"], &["id", "given_name", "family_name"]),
        (&["address"], &["id", "address"]),
        (&["personal_code"], &["id", "personal_code"]),
        (
            &["identity", "personal_code"],
            &["id", "given_name", "family_name", "personal_code"],
        ),
        (
            &["identity", "contact", "address", "personal_code"],
            &[
                "id",
                "given_name",
                "family_name",
                "email",
                "phone",
                "address",
                "personal_code",
            ],
        ),
    ];
    for (categories, fields) in cases {
        let subject = insert_subject(&app);
        let recipient = create_recipient(&app, "Partner OÜ").await;
        grant(&app, subject, recipient, categories).await;
        let res = partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}")).await;
        res.assert_status(200);
        let body = res.json();
        assert_eq!(keys(&body), set(fields), "{categories:?}");
        assert_eq!(body["id"], subject.to_string());
        if categories.contains(&"contact") {
            assert_eq!(body["email"], "mari@example.ee");
            assert_eq!(body["phone"], "+3725551234");
        }
        if categories.contains(&"identity") {
            assert_eq!(body["given_name"], "Mari");
            assert_eq!(body["family_name"], "Maasikas");
        }
        if categories.contains(&"address") {
            assert_eq!(
                body["address"],
                json!({"street": "Tamme 1", "city": "Tartu", "postal_code": "50101", "country": "EE"})
            );
        }
        if categories.contains(&"personal_code") {
            assert!(body["personal_code"].as_str().unwrap().starts_with('3'));
        }
    }
}

#[actix_web::test]
async fn fields_of_a_covered_category_are_present_even_when_empty() {
    let app = TestApp::spawn().await;
    let subject = Uuid::now_v7();
    app.db
        .insert_subject(subject, subject_data("Mari", "Maasikas"));
    let recipient = create_recipient(&app, "Partner OÜ").await;
    grant(&app, subject, recipient, &["contact", "address"]).await;
    let body = partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}"))
        .await
        .json();
    assert_eq!(
        body,
        json!({"id": subject, "email": null, "phone": null, "address": null})
    );
}

#[actix_web::test]
async fn two_authorizations_together_widen_what_a_partner_receives() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let first = grant(&app, subject, recipient, &["identity"]).await;
    let path = format!("/v1/partner/subjects/{subject}");
    let body = partner_get(&app, recipient, &path).await.json();
    assert_eq!(keys(&body), set(&["id", "given_name", "family_name"]));
    let second = grant(&app, subject, recipient, &["address", "identity"]).await;
    let res = partner_get(&app, recipient, &path).await;
    res.assert_status(200);
    assert!(res.header("etag").is_some());
    assert_eq!(
        keys(&res.json()),
        set(&["id", "given_name", "family_name", "address"])
    );
    let ids = app.db.scalar(&format!(
        "SELECT authorization_ids::text FROM disclosures WHERE subject_id = '{subject}' ORDER BY id DESC LIMIT 1"
    ));
    assert!(
        ids.contains(&first.to_string()) && ids.contains(&second.to_string()),
        "{ids}"
    );
}

#[actix_web::test]
async fn a_partner_read_records_the_disclosure_and_its_log_entry_together() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let aid = grant(&app, subject, recipient, &["contact"]).await;
    let res = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/partner/subjects/{subject}"))
                .insert_header((
                    "Authorization",
                    format!("Bearer {}", partner_token(recipient)),
                ))
                .insert_header(("X-Request-Id", "partner-req-1"))
                .insert_header(("X-Access-Purpose", "sending an offer")),
        )
        .await;
    res.assert_status(200);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM disclosures WHERE subject_id = '{subject}' AND recipient_id = '{recipient}' \
             AND channel = 'partner_api' AND data_categories = ARRAY['contact'] \
             AND authorization_ids = ARRAY['{aid}'::uuid] AND request_id = 'partner-req-1'"
        )),
        1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'partner.read' AND outcome = 'allowed' \
             AND subject_id = '{subject}' AND recipient_id = '{recipient}' \
             AND request_id = 'partner-req-1' AND purpose = 'sending an offer'"
        )),
        1
    );
    assert_same_transaction(&app, "partner.read", subject);
}

#[actix_web::test]
async fn unknown_and_unauthorized_subjects_get_the_same_refusal() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let unauthorized =
        partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}")).await;
    let missing_id = Uuid::now_v7();
    let missing = partner_get(
        &app,
        recipient,
        &format!("/v1/partner/subjects/{missing_id}"),
    )
    .await;
    unauthorized.assert_problem(403, "disclosure-not-authorized");
    missing.assert_problem(403, "disclosure-not-authorized");
    assert_eq!(unauthorized.body, missing.body);
    assert_eq!(log_count(&app, "partner.read", "denied", Some(subject)), 1);
    assert_eq!(
        log_count(&app, "partner.read", "denied", Some(missing_id)),
        1
    );
    assert_eq!(count(&app, "disclosures"), 0);
}

#[actix_web::test]
async fn a_partner_never_sees_another_recipients_subjects() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let a = create_recipient(&app, "A OÜ").await;
    let b = create_recipient(&app, "B OÜ").await;
    grant(
        &app,
        subject,
        a,
        &["identity", "contact", "address", "personal_code"],
    )
    .await;
    let path = format!("/v1/partner/subjects/{subject}");
    partner_get(&app, a, &path).await.assert_status(200);
    let refused = partner_get(&app, b, &path).await;
    refused.assert_problem(403, "disclosure-not-authorized");
    let a_list = partner_get(&app, a, "/v1/partner/subjects").await.json();
    assert_eq!(a_list["items"], json!([subject]));
    let b_list = partner_get(&app, b, "/v1/partner/subjects").await;
    b_list.assert_status(200);
    assert_eq!(b_list.json(), json!({"items": [], "next_cursor": null}));
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'partner.read' AND outcome = 'denied' \
             AND recipient_id = '{b}' AND subject_id = '{subject}'"
        )),
        1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM disclosures WHERE recipient_id = '{b}'"
        )),
        0
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'partner.list' AND recipient_id = '{b}'"
        )),
        0
    );
}

#[actix_web::test]
async fn partner_tokens_need_a_recipient_and_staff_tokens_need_the_partner_scope() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    grant(&app, subject, recipient, &["identity"]).await;
    let path = format!("/v1/partner/subjects/{subject}");
    let no_recipient = token_for("partner-without-recipient", &[Scope::Partner], None);
    as_token(&app, &no_recipient, &path)
        .await
        .assert_problem(403, "recipient-required");
    as_token(&app, &no_recipient, "/v1/partner/subjects")
        .await
        .assert_problem(403, "recipient-required");
    assert_eq!(log_count(&app, "partner.read", "denied", Some(subject)), 1);
    assert_eq!(log_count(&app, "partner.list", "denied", None), 1);
    // Every staff scope, even with a recipient_id, is not the partner scope.
    let staff_token = token_for("tester", &staff(), Some(recipient));
    as_token(&app, &staff_token, &path)
        .await
        .assert_problem(403, "insufficient-scope");
    as_token(&app, &staff_token, "/v1/partner/subjects")
        .await
        .assert_problem(403, "insufficient-scope");
    assert_eq!(log_count(&app, "partner.read", "denied", Some(subject)), 2);
    assert_eq!(count(&app, "disclosures"), 0);
    let res = partner_get(&app, recipient, "/v1/partner/subjects/not-a-uuid").await;
    res.assert_problem(400, "validation-failed");
}

#[actix_web::test]
async fn the_partner_list_pages_and_logs_one_entry_per_subject_returned() {
    let app = TestApp::spawn().await;
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let mut subjects: Vec<Uuid> = Vec::new();
    for _ in 0..3 {
        let subject = insert_subject(&app);
        grant(&app, subject, recipient, &["identity"]).await;
        subjects.push(subject);
    }
    // Two authorizations of one subject list it once.
    grant(&app, subjects[0], recipient, &["contact"]).await;
    // Not receivable now: not listed.
    let hidden = insert_subject(&app);
    let mut future = consent(recipient, &["identity"]);
    future["valid_from"] = json!(Utc::now() + Duration::days(1));
    authorize(&app, hidden, future).await;
    subjects.sort();

    let first = partner_get(&app, recipient, "/v1/partner/subjects?limit=2").await;
    first.assert_status(200);
    let first = first.json();
    assert_eq!(first["items"], json!([subjects[0], subjects[1]]));
    assert_eq!(count(&app, "access_log WHERE action = 'partner.list'"), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = partner_get(
        &app,
        recipient,
        &format!("/v1/partner/subjects?limit=2&cursor={cursor}"),
    )
    .await
    .json();
    assert_eq!(second, json!({"items": [subjects[2]], "next_cursor": null}));
    for subject in &subjects {
        assert_eq!(
            log_count(&app, "partner.list", "allowed", Some(*subject)),
            1
        );
    }
    assert_eq!(log_count(&app, "partner.list", "allowed", Some(hidden)), 0);
    // An empty page logs nothing.
    let other = create_recipient(&app, "Other").await;
    partner_get(&app, other, "/v1/partner/subjects")
        .await
        .assert_status(200);
    assert_eq!(count(&app, "access_log WHERE action = 'partner.list'"), 3);
    // Listing discloses ids only: no disclosure rows.
    assert_eq!(count(&app, "disclosures"), 0);
    let res = partner_get(&app, recipient, "/v1/partner/subjects?limit=5000").await;
    assert_eq!(res.bad_fields(), ["limit"]);
}

#[actix_web::test]
async fn the_export_holds_every_authorization_and_disclosure_of_the_subject() {
    let app = TestApp::spawn().await;
    let subject = insert_subject(&app);
    let other = insert_subject(&app);
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let kept = grant(&app, subject, recipient, &["identity"]).await;
    let revoked = grant(&app, subject, recipient, &["contact"]).await;
    grant(&app, other, recipient, &["identity"]).await;
    record(&app, subject, recipient, &["identity"])
        .await
        .assert_status(201);
    app.post(
        &format!("/v1/subjects/{subject}/disclosure-authorizations/{revoked}/revoke"),
        json!({"reason": "withdrawn"}),
    )
    .await
    .assert_status(200);
    partner_get(&app, recipient, &format!("/v1/partner/subjects/{subject}"))
        .await
        .assert_status(200);
    record(&app, other, recipient, &["identity"])
        .await
        .assert_status(201);

    let mut conn = app.db.conn();
    let (authorizations, disclosures) =
        planpro_privacy::disclosures::export_for(&mut conn, subject.into()).unwrap();
    let authorizations = authorizations.as_array().unwrap();
    assert_eq!(authorizations.len(), 2);
    assert_eq!(authorizations[0]["id"], kept.to_string());
    assert_eq!(authorizations[0]["active"], true);
    assert_eq!(authorizations[1]["id"], revoked.to_string());
    assert_eq!(authorizations[1]["active"], false);
    assert_eq!(authorizations[1]["revoked_reason"], "withdrawn");
    let disclosures = disclosures.as_array().unwrap();
    assert_eq!(disclosures.len(), 2);
    assert_eq!(disclosures[0]["channel"], "email");
    assert_eq!(disclosures[1]["channel"], "partner_api");
    assert!(disclosures
        .iter()
        .all(|d| d["subject_id"] == subject.to_string()));
}

/// Partner reads ride the group commit in batches; a revocation racing them is decided per
/// batch, and once it has returned every later read is refused. Every answer matches the log:
/// each 200 has its disclosure and allowed entry, each 403 a denied entry and no disclosure.
#[actix_web::test]
async fn batched_partner_reads_racing_a_revocation_and_a_suspension_stay_consistent() {
    let app = TestApp::spawn().await;
    let recipient = create_recipient(&app, "Partner OÜ").await;
    let subjects: Vec<Uuid> = (0..8).map(|_| insert_subject(&app)).collect();
    let mut grants = Vec::new();
    for subject in &subjects {
        grants.push(grant(&app, *subject, recipient, &["identity", "contact"]).await);
    }
    let token = partner_token(recipient);
    let reads = |round: usize| {
        let (app, token, subjects) = (&app, &token, &subjects);
        (0..48).map(move |n| async move {
            let subject = subjects[(n + round) % subjects.len()];
            let res = as_token(app, token, &format!("/v1/partner/subjects/{subject}")).await;
            (subject, res.status)
        })
    };
    let revoked = subjects[0];
    let revoke_path = format!(
        "/v1/subjects/{revoked}/disclosure-authorizations/{}/revoke",
        grants[0]
    );
    let revoke = app.post(
        &revoke_path,
        json!({"reason": "the client withdrew consent"}),
    );
    let (raced, revocation) =
        futures_util::future::join(futures_util::future::join_all(reads(0)), revoke).await;
    revocation.assert_status(200);
    let after = futures_util::future::join_all(reads(1)).await;
    for (subject, status) in &after {
        let expected = if *subject == revoked { 403 } else { 200 };
        assert_eq!(status.as_u16(), expected, "a read after the revocation");
    }
    suspend(&app, recipient).await;
    let suspended = futures_util::future::join_all(reads(2)).await;
    assert!(suspended.iter().all(|(_, s)| s.as_u16() == 403));

    let all: Vec<_> = raced.iter().chain(&after).chain(&suspended).collect();
    for subject in &subjects {
        let allowed = all
            .iter()
            .filter(|(s, st)| s == subject && st.as_u16() == 200)
            .count() as i64;
        let refused = all
            .iter()
            .filter(|(s, st)| s == subject && st.as_u16() == 403)
            .count() as i64;
        assert_eq!(
            app.db.count(&format!(
                "SELECT 1 FROM disclosures WHERE subject_id = '{subject}' AND channel = 'partner_api'"
            )),
            allowed
        );
        assert_eq!(
            log_count(&app, "partner.read", "allowed", Some(*subject)),
            allowed
        );
        assert_eq!(
            log_count(&app, "partner.read", "denied", Some(*subject)),
            refused
        );
    }
}
