//! Every kind of consent receipt carries every member contract v3, section C lists (ISO/IEC TS
//! 27560, Kantara CR v1.1): a staff grant waiting for its double opt-in, the link's
//! confirmation, a staff withdrawal, the person's own change and the withdrawals an erasure
//! signs before it destroys the record.

use crate::consent_lifecycle::follower;
use crate::consent_versions::{add_version, put, version, PARTNERS};
use crate::harness::TestApp;
use crate::jws::verify;
use actix_web::test::TestRequest;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use uuid::Uuid;

const PLANPRO: &str = "marketing_planpro";

/// Each receipt of the subject's events with the event's actor, purpose, method, status, state
/// and version, oldest first (read from the tables: an erased subject's endpoints answer 410).
fn receipts(app: &TestApp, subject: Uuid) -> Vec<(Value, Value)> {
    let rows = app.db.scalar(&format!(
        "SELECT json_agg(json_build_array(r.jws, json_build_object('actor', e.actor, \
           'purpose', e.purpose_id, 'method', e.method, 'status', e.status, 'state', e.state, \
           'version', e.purpose_version)) ORDER BY e.at, e.id) \
         FROM consent_events e JOIN consent_receipts r ON r.event_id = e.id \
         WHERE e.subject_id = '{subject}'"
    ));
    let rows: Vec<(String, Value)> = serde_json::from_str(&rows).unwrap();
    rows.into_iter()
        .map(|(jws, event)| (Value::String(jws), event))
        .collect()
}

/// The notice hash of a purpose's version, as the purposes' API states it.
async fn notice(app: &TestApp, purpose: &str, version: &Value) -> Value {
    let res = app
        .get(&format!("/v1/purposes/{purpose}/versions/{version}"))
        .await;
    res.assert_status(200);
    res.json()["text_sha256"].clone()
}

#[actix_web::test]
async fn every_kind_of_receipt_states_every_lifecycle_member() {
    let app = TestApp::spawn().await;
    app.post(
        "/v1/retention/rules",
        json!({"subject_kind": "client", "keep_months": 36, "legal_basis": "PlanS § 12"}),
    )
    .await
    .assert_status(201);
    add_version(
        &app,
        PARTNERS,
        Some("\"1\""),
        version(
            false,
            json!({"confirmation": "double_opt_in", "validity_months": 12}),
        ),
    )
    .await
    .assert_status(201);
    let subject = crate::me::person(&app, crate::me::CODE).await;
    follower(&app, subject).await;

    // A staff grant waiting for its confirmation, and the link's confirmation.
    let granted = put(
        &app,
        subject,
        PARTNERS,
        json!({"status": "granted", "method": "web_form", "evidence": "form 7"}),
    )
    .await;
    granted.assert_status(200);
    let token = granted.json()["confirmation_token"].clone();
    app.send(
        TestRequest::post()
            .uri("/v1/consents/confirmations")
            .set_json(json!({ "token": token })),
    )
    .await
    .assert_status(200);
    // A staff withdrawal (an objection: an opt-out purpose) and the person's own grant.
    put(
        &app,
        subject,
        PLANPRO,
        json!({"status": "withdrawn", "method": "email"}),
    )
    .await
    .assert_status(200);
    let own = crate::me::self_token(&format!("EE{}", crate::me::CODE), None);
    crate::me::as_person(
        &app,
        "PUT",
        &format!("/v1/me/consents/{PLANPRO}"),
        &own,
        Some(json!({"status": "granted", "purpose_version": 1})),
    )
    .await
    .assert_status(200);
    // The erasure withdraws both, and refuses every purpose never decided.
    app.post(
        &format!("/v1/subjects/{subject}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);

    let jwks = crate::jws::jwks(&app).await;
    let all = receipts(&app, subject);
    let mut kinds = BTreeSet::new();
    for (jws, event) in &all {
        let (_, p) = verify(jws.as_str().unwrap(), &jwks);
        let kind = match (
            event["actor"].as_str().unwrap(),
            event["method"].as_str().unwrap(),
        ) {
            ("link:confirmation", _) => "confirmation",
            (_, "portal") => "portal",
            (actor, _) if actor.starts_with("subject:") => "portal",
            _ if p["status"] == "withdrawn" && event["method"] == "api" => "erasure",
            _ if p["status"] == "granted" => "staff grant",
            _ => "staff withdrawal",
        };
        kinds.insert(kind);
        let at = format!("{kind} receipt of {}: {p}", event["purpose"]);
        // The event itself records its state and version (erasure's withdrawals too).
        assert!(event["state"].is_string(), "{at}: event {event}");
        let purpose = &p["services"][0]["purposes"][0];
        assert_eq!(purpose["purposeVersion"], event["version"], "{at}");
        let name = event["purpose"].as_str().unwrap();
        assert_eq!(
            purpose["noticeSha256"],
            notice(&app, name, &event["version"]).await,
            "{at}"
        );
        assert!(purpose["termination"].is_string(), "{at}");
        if name == PARTNERS {
            assert_eq!(purpose["thirdPartyName"], "Partner OÜ", "{at}");
        }
        assert_eq!(p["state"], event["state"], "{at}");
        assert!(
            p["withdrawalMethod"].as_str().unwrap().contains('@'),
            "{at}"
        );
        assert!(p["storageLocation"].is_string(), "{at}");
        assert!(p.get("policyUrl").is_some(), "{at}");
        assert_eq!(
            p["retention"],
            json!({"keep_months": 36, "legal_basis": "PlanS § 12"}),
            "{at}"
        );
        assert!(p.get("guardian").is_some_and(Value::is_null), "{at}");
    }
    assert_eq!(
        kinds,
        BTreeSet::from([
            "confirmation",
            "erasure",
            "portal",
            "staff grant",
            "staff withdrawal"
        ]),
        "{all:?}"
    );
    // The erasure's withdrawals: the version in force, `withdrawn` after a grant, `refused`
    // for a purpose never granted.
    let erased: Vec<_> = all
        .iter()
        .filter(|(_, e)| e["method"] == "api" && e["status"] == "withdrawn")
        .map(|(_, e)| {
            (
                e["purpose"].as_str().unwrap(),
                e["state"].as_str().unwrap(),
                e["version"].clone(),
            )
        })
        .collect();
    assert!(
        erased.contains(&(PARTNERS, "withdrawn", json!(2))),
        "{erased:?}"
    );
    assert!(
        erased.contains(&(PLANPRO, "withdrawn", json!(1))),
        "{erased:?}"
    );
}
