//! The person's own flags (contract v3, A and C): read with each purpose's text and version,
//! changed with the version shown, recorded with method `portal` and the login as evidence,
//! withdrawals telling the recipients; every refusal changes nothing and is logged about them.

use crate::consent_versions::{add_version, version, PARTNERS};
use crate::harness::{staff, subject_data, TestApp};
use crate::jwks::{idp_key, JwksServer};
use crate::me::{app_with_idp, as_person, entries, idp_claims, person, self_token, CODE, IDP};
use actix_web::http::Method;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use uuid::Uuid;

fn mine() -> String {
    self_token(&format!("EE{CODE}"), None)
}

fn path(purpose: &str) -> String {
    format!("/v1/me/consents/{purpose}")
}

/// Events, flags and notices: what a refused change must leave as it was.
fn changed(app: &TestApp) -> String {
    app.db.scalar(
        "SELECT (SELECT count(*) FROM consent_events)::text || '/' || \
           (SELECT count(*) FROM consents) || '/' || (SELECT count(*) FROM notices)",
    )
}

fn last_entry(app: &TestApp) -> Value {
    entries(app).pop().unwrap()
}

fn entry(id: Uuid, action: &str, outcome: &str) -> Value {
    json!({"actor": format!("subject:{id}"), "action": action, "subject_id": id,
           "outcome": outcome})
}

#[actix_web::test]
async fn the_person_reads_every_flag_with_the_text_of_the_version_in_force() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    add_version(&app, PARTNERS, Some("\"1\""), version(false, json!({})))
        .await
        .assert_status(201);
    let res = as_person(&app, "GET", "/v1/me/consents", &mine(), None).await;
    res.assert_status(200);
    assert_eq!(last_entry(&app), entry(id, "consent.read", "allowed"));
    let items = res.json()["items"].as_array().unwrap().clone();
    let staff_view = app.get(&format!("/v1/subjects/{id}/consents")).await.json();
    assert_eq!(items.len(), staff_view.as_array().unwrap().len());
    let partners = items.iter().find(|i| i["purpose"] == PARTNERS).unwrap();
    assert_eq!(partners["state"], "unset");
    assert_eq!(partners["current_version"], 2);
    assert_eq!(
        partners["purpose_text"],
        json!({"et": "Uus tekst.", "en": "New text.", "ru": "Новый текст."})
    );
    for item in &items {
        assert!(item["purpose_text"]["et"].is_string(), "{item}");
        assert!(item["current_version"].as_i64().unwrap() >= 1, "{item}");
    }
}

#[actix_web::test]
async fn a_grant_names_the_version_shown_and_is_recorded_as_the_person_s_own() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    add_version(&app, PARTNERS, Some("\"1\""), version(false, json!({})))
        .await
        .assert_status(201);
    let before = changed(&app);

    // Without the version, with a stale one, with a bad one: nothing changes, each is logged.
    let res = as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &mine(),
        Some(json!({"status": "granted"})),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["purpose_version"]);
    assert_eq!(last_entry(&app), entry(id, "consent.change", "denied"));
    let res = as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &mine(),
        Some(json!({"status": "granted", "purpose_version": 1})),
    )
    .await;
    res.assert_problem(409, "purpose-version-stale");
    for (body, fields) in [
        (
            json!({"status": "granted", "purpose_version": 0}),
            vec!["purpose_version"],
        ),
        (
            json!({"status": "maybe", "purpose_version": 2}),
            vec!["status"],
        ),
        (
            json!({"status": "granted", "purpose_version": 2, "method": "api"}),
            vec!["method"],
        ),
        (
            json!({"status": "granted", "purpose_version": "2"}),
            vec!["purpose_version"],
        ),
    ] {
        let res = as_person(&app, "PUT", &path(PARTNERS), &mine(), Some(body.clone())).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{body}");
    }
    let unknown = as_person(
        &app,
        "PUT",
        &path("no_such_purpose"),
        &mine(),
        Some(json!({"status": "withdrawn"})),
    )
    .await;
    unknown.assert_problem(404, "not-found");
    assert_eq!(changed(&app), before);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE subject_id = '{id}' AND action = 'consent.change' \
             AND outcome = 'denied' AND actor = 'subject:{id}'"
        )),
        7
    );

    let res = as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &mine(),
        Some(json!({"status": "granted", "purpose_version": 2})),
    )
    .await;
    res.assert_status(200);
    let flag = res.json();
    assert_eq!(flag["state"], "given");
    assert_eq!(flag["purpose_version"], 2);
    assert!(res.header("etag").is_some());
    assert_eq!(last_entry(&app), entry(id, "consent.change", "allowed"));
    let event = &app.db.consent_events(id)[0];
    assert_eq!(event.method, "portal");
    assert_eq!(event.actor, format!("subject:{id}"));
    let evidence: Value = serde_json::from_str(event.evidence.as_deref().unwrap()).unwrap();
    assert_eq!(evidence["issuer"], "staff-key");
    assert_eq!(evidence["acr"], Value::Null);
    assert_eq!(evidence["amr"], json!([]));
    assert!(evidence["jti"].is_string());
    // RFC 8785: keys sorted, no spaces.
    assert!(event
        .evidence
        .as_deref()
        .unwrap()
        .starts_with("{\"acr\":null,\"amr\":[]"));

    // Withdrawing needs no version.
    as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &mine(),
        Some(json!({"status": "withdrawn"})),
    )
    .await
    .assert_status(200);
    assert_eq!(app.db.consent_events(id)[0].status, "withdrawn");
}

#[actix_web::test]
async fn staff_may_not_record_portal_nor_call_the_person_s_endpoints() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    let before = changed(&app);
    let res = app
        .call(
            Method::PUT,
            &format!("/v1/subjects/{id}/consents/{PARTNERS}"),
            &staff(),
            Some(json!({"status": "granted", "method": "portal"})),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["method"]);
    let staff_token = app.token(&staff());
    as_person(&app, "GET", "/v1/me/consents", &staff_token, None)
        .await
        .assert_missing_scope("self");
    as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &staff_token,
        Some(json!({"status": "withdrawn"})),
    )
    .await
    .assert_missing_scope("self");
    as_person(
        &app,
        "PUT",
        &format!("/v1/subjects/{id}/consents/{PARTNERS}"),
        &mine(),
        Some(json!({"status": "withdrawn", "method": "email"})),
    )
    .await
    .assert_problem(403, "insufficient-scope");
    assert_eq!(changed(&app), before);
}

#[actix_web::test]
async fn a_withdrawal_tells_the_recipients_as_a_staff_one_does() {
    let app = TestApp::spawn().await;
    let (subject, _, _) = crate::notices::arrange(&app, None).await;
    let res = as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &mine(),
        Some(json!({"status": "withdrawn"})),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.json()["state"], "refused");
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM notices WHERE type = 'consent.withdrawn' AND subject_id = '{subject}' \
             AND purpose = '{PARTNERS}'"
        )),
        1
    );
}

async fn double_opt_in(app: &TestApp) {
    add_version(
        app,
        PARTNERS,
        Some("\"1\""),
        version(false, json!({"confirmation": "double_opt_in"})),
    )
    .await
    .assert_status(201);
}

#[actix_web::test]
async fn an_eid_grant_needs_no_confirmation_a_staff_key_one_follows_the_purpose() {
    let idp = idp_key("tara-1", Algorithm::EdDSA);
    let server = JwksServer::start(std::slice::from_ref(&idp.jwk));
    let app = app_with_idp(&server).await;
    let id = person(&app, CODE).await;
    double_opt_in(&app).await;
    let claims = idp_claims(Some("high"));
    let res = as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &idp.sign(&claims),
        Some(json!({"status": "granted", "purpose_version": 2})),
    )
    .await;
    res.assert_status(200);
    let flag = res.json();
    assert_eq!(flag["state"], "given");
    assert_eq!(flag["confirmation_token"], Value::Null);
    assert!(flag["given_at"].is_string());
    let event = &app.db.consent_events(id)[0];
    let evidence: Value = serde_json::from_str(event.evidence.as_deref().unwrap()).unwrap();
    assert_eq!(
        evidence,
        json!({"issuer": IDP, "acr": "high", "amr": ["mID"], "jti": claims["jti"]})
    );
    assert_eq!(app.db.count("SELECT 1 FROM consent_confirmations"), 0);

    // The same grant with a token minted with the staff key waits for its confirmation.
    let other = Uuid::now_v7();
    let mut data = subject_data("Jaan", "Tamm");
    data.personal_code = Some("37605030299".to_owned());
    app.db.insert_subject(other, data);
    let res = as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &self_token("EE37605030299", None),
        Some(json!({"status": "granted", "purpose_version": 2})),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.json()["state"], "pending_confirmation");
    assert!(res.json()["confirmation_token"].is_string());
}

#[actix_web::test]
async fn a_child_s_own_grant_needs_a_guardian() {
    let app = TestApp::spawn().await;
    add_version(
        &app,
        PARTNERS,
        Some("\"1\""),
        version(false, json!({"minimum_age": 13})),
    )
    .await
    .assert_status(201);
    // Born 2016-05-04: ten years old in 2026.
    let child = "61605040002";
    let id = person(&app, child).await;
    let before = changed(&app);
    let res = as_person(
        &app,
        "PUT",
        &path(PARTNERS),
        &self_token(&format!("EE{child}"), None),
        Some(json!({"status": "granted", "purpose_version": 2})),
    )
    .await;
    res.assert_problem(422, "guardian-consent-required");
    assert_eq!(changed(&app), before);
    assert_eq!(last_entry(&app), entry(id, "consent.change", "denied"));
}
