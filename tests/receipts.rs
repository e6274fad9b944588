//! Signed consent receipts: one per consent event, written with it, verifiable with the published
//! JWK set (checked here with a second Ed25519 library), refused as a bearer token.

use crate::harness::{staff, Resp, TestApp};
use crate::jws::verify;
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::json;
use uuid::Uuid;

async fn subject(app: &TestApp) -> Uuid {
    let res = app
        .post(
            "/v1/subjects",
            json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                   "source": {"type": "data_subject"}}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().parse().unwrap()
}

async fn decide(app: &TestApp, subject: Uuid, purpose: &str, status: &str) -> Uuid {
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/{purpose}"),
        &staff(),
        Some(json!({"status": status, "method": "unsubscribe_link"})),
    )
    .await
    .assert_status(200);
    let history = app
        .get(&format!(
            "/v1/subjects/{subject}/consents/history?purpose={purpose}"
        ))
        .await
        .json();
    history["items"][0]["id"].as_str().unwrap().parse().unwrap()
}

async fn receipt(app: &TestApp, subject: Uuid, event: Uuid) -> Resp {
    app.call(
        Method::GET,
        &format!("/v1/subjects/{subject}/consents/history/{event}/receipt"),
        &[Scope::ConsentsRead],
        None,
    )
    .await
}

#[actix_web::test]
async fn every_consent_event_has_a_signed_kantara_receipt() {
    let app = TestApp::spawn().await;
    let s = subject(&app).await;
    let granted = decide(&app, s, "marketing_partners", "granted").await;
    let objected = decide(&app, s, "marketing_planpro", "withdrawn").await;
    assert_eq!(
        app.db.count("SELECT 1 FROM consent_receipts"),
        app.db.count("SELECT 1 FROM consent_events"),
        "each event's receipt is written with it"
    );
    let jwks = app
        .send(TestRequest::get().uri("/.well-known/jwks.json"))
        .await
        .assert_status(200)
        .json();
    let res = receipt(&app, s, granted).await;
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/jose")
    );
    let (_, p) = verify(std::str::from_utf8(&res.body).unwrap(), &jwks);
    assert_eq!(p["version"], "KI-CR-v1.1.0");
    assert_eq!(p["jurisdiction"], "EE");
    assert_eq!(p["consentReceiptID"], granted.to_string());
    assert_eq!(p["piiPrincipalId"], s.to_string());
    assert_eq!(p["collectionMethod"], "unsubscribe_link");
    assert_eq!(p["status"], "granted");
    assert!(p["consentTimestamp"].as_i64().unwrap() > 1_700_000_000);
    // The controller comes from the configuration (tests/harness.rs), not from the code.
    let controller = &p["piiControllers"][0];
    assert_eq!(controller["piiController"], crate::harness::CONTROLLER_NAME);
    assert_eq!(controller["registryCode"], "12345678");
    assert_eq!(controller["address"], "Pikk 1, 10123 Tallinn");
    assert_eq!(controller["email"], "privacy@planpro.ee");
    assert_eq!(p["policyUrl"], "https://planpro.ee/privacy");
    assert_eq!(p["storageLocation"], "FI");
    assert_eq!(p["services"][0]["purposes"][0]["consentType"], "explicit");
    let res = receipt(&app, s, objected).await;
    let (_, p) = verify(std::str::from_utf8(&res.body).unwrap(), &jwks);
    assert_eq!(p["status"], "withdrawn");
    assert_eq!(
        p["services"][0]["purposes"][0]["consentType"], "objection",
        "withdrawing an opt-out purpose is an objection"
    );
    // The same JWS as text/plain for a client that asks for that and not for application/jose.
    let path = format!("/v1/subjects/{s}/consents/history/{objected}/receipt");
    for (accept, served) in [
        ("text/plain", "text/plain; charset=utf-8"),
        (
            "text/plain;q=0.5, application/json",
            "text/plain; charset=utf-8",
        ),
        ("application/jose, text/plain", "application/jose"),
        ("text/plain;q=0, */*", "application/jose"),
        ("*/*", "application/jose"),
    ] {
        let again = app
            .send(
                TestRequest::get()
                    .uri(&path)
                    .insert_header((
                        "Authorization",
                        format!("Bearer {}", app.token(&[Scope::ConsentsRead])),
                    ))
                    .insert_header(("Accept", accept)),
            )
            .await;
        again.assert_status(200);
        assert_eq!(
            again.header("content-type").as_deref(),
            Some(served),
            "{accept}"
        );
        assert_eq!(again.body, res.body, "{accept}");
    }
    let reads = app
        .db
        .count("SELECT 1 FROM access_log WHERE action = 'consent.receipt'");
    assert_eq!(reads, 7);
    // Another subject's event, or none, is not found.
    let other = subject(&app).await;
    receipt(&app, other, granted)
        .await
        .assert_problem(404, "not-found");
    receipt(&app, s, Uuid::now_v7())
        .await
        .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn a_receipt_is_not_a_bearer_token() {
    let app = TestApp::spawn().await;
    let s = subject(&app).await;
    let event = decide(&app, s, "marketing_partners", "granted").await;
    let jws = String::from_utf8(receipt(&app, s, event).await.body).unwrap();
    let res = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/subjects/{s}"))
                .insert_header(("Authorization", format!("Bearer {jws}"))),
        )
        .await;
    res.assert_status(401);
}

#[actix_web::test]
async fn retired_keys_stay_listed_and_old_events_get_receipts() {
    let app = TestApp::spawn().await;
    let s = subject(&app).await;
    let event = decide(&app, s, "marketing_partners", "granted").await;
    // An event recorded before receipts existed has none stored: it is signed when first asked.
    app.db.exec(&format!(
        "ALTER TABLE consent_receipts DISABLE TRIGGER consent_receipts_append_only;
         DELETE FROM consent_receipts WHERE event_id = '{event}';
         ALTER TABLE consent_receipts ENABLE TRIGGER consent_receipts_append_only;
         INSERT INTO receipt_keys (kid, x, added_at) VALUES ('retired-kid', 'AAAA', now() - interval '1 year');"
    ));
    let first = receipt(&app, s, event).await;
    first.assert_status(200);
    assert_eq!(
        receipt(&app, s, event).await.body,
        first.body,
        "stored once, then the same"
    );
    let jwks = app
        .send(TestRequest::get().uri("/.well-known/jwks.json"))
        .await
        .json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2, "{jwks}");
    assert_eq!(kids[0], "retired-kid");
    verify(std::str::from_utf8(&first.body).unwrap(), &jwks);
}

#[actix_web::test]
async fn a_partner_purposes_receipt_names_the_third_parties() {
    let app = TestApp::spawn().await;
    let s = subject(&app).await;
    let mut recipients = Vec::new();
    for name in ["Kodulaen AS", "Aknad OÜ"] {
        let res = app
            .post(
                "/v1/recipients",
                json!({"name": name, "category": "platform_service_provider",
                       "contact_email": "dpo@partner.ee"}),
            )
            .await;
        res.assert_status(201);
        recipients.push(res.json()["id"].as_str().unwrap().to_owned());
    }
    for recipient in &recipients {
        app.post(
            &format!("/v1/subjects/{s}/disclosure-authorizations"),
            json!({"recipient_id": recipient, "legal_basis": "consent",
                   "consent_evidence": "signed form 2026-11-20",
                   "data_categories": ["contact"], "purpose": "offers for the detailed plan"}),
        )
        .await
        .assert_status(201);
    }
    let jwks = app.get("/.well-known/jwks.json").await.json();
    let partner = decide(&app, s, "marketing_partners", "granted").await;
    let res = receipt(&app, s, partner).await;
    let (_, p) = verify(std::str::from_utf8(&res.body).unwrap(), &jwks);
    let purpose = &p["services"][0]["purposes"][0];
    assert_eq!(purpose["thirdPartyDisclosure"], true);
    assert_eq!(purpose["thirdPartyName"], "Aknad OÜ, Kodulaen AS");
    let own = decide(&app, s, "marketing_planpro", "withdrawn").await;
    let res = receipt(&app, s, own).await;
    let (_, p) = verify(std::str::from_utf8(&res.body).unwrap(), &jwks);
    let purpose = &p["services"][0]["purposes"][0];
    assert_eq!(purpose["thirdPartyDisclosure"], false);
    assert!(purpose.get("thirdPartyName").is_none(), "{purpose}");
}
