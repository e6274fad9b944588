//! The person's own privacy requests (contract v3, A and E): filed through the portal, verified
//! by an eID login (a staff-key token is recorded but verifies nothing), their words sealed,
//! listed with the remedies of a refusal; every bad input changes nothing and is logged.

use crate::harness::TestApp;
use crate::jwks::{idp_key, JwksServer};
use crate::me::{app_with_idp_and, as_person, entries, idp_claims, person, self_token, CODE, IDP};
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use uuid::Uuid;

const PATH: &str = "/v1/me/privacy-requests";
const WORDS: &str = "Palun kustutage minu vana aadress Pikk 1-2.";

fn mine() -> String {
    self_token(&format!("EE{CODE}"), None)
}

fn stored(app: &TestApp) -> i64 {
    app.db.count("SELECT 1 FROM privacy_requests")
}

#[actix_web::test]
async fn an_eid_login_files_a_verified_request_whose_words_are_sealed() {
    let idp = idp_key("tara-1", Algorithm::EdDSA);
    let server = JwksServer::start(std::slice::from_ref(&idp.jwk));
    let app = app_with_idp_and(&server, |c| c.require_verified_requests = true).await;
    let id = person(&app, CODE).await;
    let claims = idp_claims(Some("high"));
    let res = as_person(
        &app,
        "POST",
        PATH,
        &idp.sign(&claims),
        Some(json!({"kind": "restriction", "details": WORDS})),
    )
    .await;
    res.assert_status(201);
    let filed = res.json();
    assert_eq!(filed["subject_id"], id.to_string());
    assert_eq!(filed["channel"], "portal");
    assert_eq!(filed["status"], "open");
    assert_eq!(filed["details"], WORDS);
    let auth_time = chrono::DateTime::from_timestamp(claims["auth_time"].as_i64().unwrap(), 0);
    assert_eq!(
        filed["verification"],
        json!({"method": "eid", "issuer": IDP, "acr": "high", "amr": ["mID"],
               "verified_at": auth_time.unwrap()})
    );
    assert_eq!(filed["verification_method"], "eid");
    assert_eq!(filed["verified_by"], format!("subject:{id}"));
    let received: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(filed["received_at"].clone()).unwrap();
    assert!((chrono::Utc::now() - received).num_seconds().abs() < 60);
    let request = filed["id"].as_str().unwrap().to_owned();
    assert_eq!(
        entries(&app).pop().unwrap(),
        json!({"actor": format!("subject:{id}"), "action": "request.create",
               "subject_id": id, "outcome": "allowed"})
    );
    // The words are sealed, and staff read them with the request.
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM privacy_requests WHERE id = '{request}' AND details_enc IS NOT NULL \
             AND position(convert_to('Pikk', 'UTF8') in details_enc) = 0"
        )),
        1
    );
    let staff_view = app.get(&format!("/v1/privacy-requests/{request}")).await;
    staff_view.assert_status(200);
    assert_eq!(staff_view.json()["details"], WORDS);
    assert_eq!(staff_view.json()["verification"]["method"], "eid");
    // Verified at filing: a restriction may cite it at once under REQUIRE_VERIFIED_REQUESTS.
    app.post(
        &format!("/v1/subjects/{id}/restriction"),
        json!({"ground": "accuracy_contested", "reason": "contested",
               "privacy_request_id": request}),
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn a_staff_key_login_is_recorded_but_does_not_count_as_verified() {
    let idp = idp_key("tara-1", Algorithm::EdDSA);
    let server = JwksServer::start(std::slice::from_ref(&idp.jwk));
    let app = app_with_idp_and(&server, |c| c.require_verified_requests = true).await;
    let id = person(&app, CODE).await;
    let res = as_person(
        &app,
        "POST",
        PATH,
        &mine(),
        Some(json!({"kind": "restriction"})),
    )
    .await;
    res.assert_status(201);
    let filed = res.json();
    assert_eq!(filed["verification"]["method"], "staff_key");
    assert_eq!(filed["verification"]["issuer"], "staff-key");
    assert_eq!(filed["verification"]["acr"], Value::Null);
    assert_eq!(filed["verified_at"], Value::Null);
    assert_eq!(filed["details"], Value::Null);
    app.post(
        &format!("/v1/subjects/{id}/restriction"),
        json!({"ground": "accuracy_contested", "reason": "contested",
               "privacy_request_id": filed["id"]}),
    )
    .await
    .assert_problem(409, "request-unverified");
    // A second one of the same kind is linked to the first, never refused.
    let again = as_person(
        &app,
        "POST",
        PATH,
        &mine(),
        Some(json!({"kind": "restriction"})),
    )
    .await;
    again.assert_status(201);
    assert_eq!(again.json()["duplicate_of"], filed["id"]);
}

#[actix_web::test]
async fn bad_requests_name_their_fields_change_nothing_and_are_logged() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    let before = stored(&app);
    for (body, field) in [
        (json!({"kind": "complaint"}), "kind"),
        (json!({}), "kind"),
        (
            json!({"kind": "access", "details": "x".repeat(2001)}),
            "details",
        ),
        (
            json!({"kind": "access", "details": "a\u{202e}b"}),
            "details",
        ),
        (json!({"kind": "access", "details": 7}), "details"),
        (
            json!({"kind": "access", "subject_id": Uuid::now_v7()}),
            "subject_id",
        ),
        (json!({"kind": "access", "channel": "email"}), "channel"),
    ] {
        let res = as_person(&app, "POST", PATH, &mine(), Some(body.clone())).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), [field], "{body}");
    }
    assert_eq!(stored(&app), before);
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE actor = 'subject:{id}' AND subject_id = '{id}' \
             AND action = 'request.create' AND outcome = 'denied'"
        )),
        7
    );
    // Exactly 2000 characters are accepted.
    as_person(
        &app,
        "POST",
        PATH,
        &mine(),
        Some(json!({"kind": "access", "details": "x".repeat(2000)})),
    )
    .await
    .assert_status(201);
    // Staff and partner tokens are refused.
    as_person(
        &app,
        "POST",
        PATH,
        &app.token(&crate::harness::staff()),
        Some(json!({"kind": "access"})),
    )
    .await
    .assert_missing_scope("self");
}

#[actix_web::test]
async fn the_person_lists_their_requests_with_the_remedies_of_a_refusal() {
    let app = TestApp::spawn().await;
    let id = person(&app, CODE).await;
    let other = person(&app, "37605030299").await;
    // One from a letter, entered by staff, refused; one filed by the person; one about another.
    let staff_filed = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": "erasure", "subject_id": id, "channel": "letter",
                   "received_at": chrono::Utc::now()}),
        )
        .await;
    staff_filed.assert_status(201);
    let staff_filed = staff_filed.json()["id"].as_str().unwrap().to_owned();
    crate::outcomes::with_if_match(
        &app,
        actix_web::http::Method::POST,
        &format!("/v1/privacy-requests/{staff_filed}/close"),
        "\"1\"",
        json!({"outcome": "refused", "reason": "the contract is still in force"}),
    )
    .await
    .assert_status(200);
    as_person(&app, "POST", PATH, &mine(), Some(json!({"kind": "access"})))
        .await
        .assert_status(201);
    app.post(
        "/v1/privacy-requests",
        json!({"kind": "access", "subject_id": other, "channel": "email",
               "received_at": chrono::Utc::now()}),
    )
    .await
    .assert_status(201);

    let res = as_person(&app, "GET", &format!("{PATH}?limit=1"), &mine(), None).await;
    res.assert_status(200);
    let first = res.json();
    let item = &first["items"][0];
    assert_eq!(item["id"], staff_filed);
    assert_eq!(item["outcome"], "refused");
    assert_eq!(item["reason"], "the contract is still in force");
    assert_eq!(
        item["remedies"]["complaint"]["authority"],
        "Andmekaitse Inspektsioon"
    );
    assert!(item["remedies"]["court"]["et"]
        .as_str()
        .unwrap()
        .contains("kohtu"));
    let mut keys: Vec<&String> = item.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "closed_at",
            "due_on",
            "extended",
            "extension_reason",
            "id",
            "kind",
            "outcome",
            "reason",
            "received_on",
            "remedies",
            "status"
        ]
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = as_person(
        &app,
        "GET",
        &format!("{PATH}?cursor={cursor}"),
        &mine(),
        None,
    )
    .await;
    second.assert_status(200);
    let second = second.json();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["remedies"], Value::Null);
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(
        entries(&app).pop().unwrap(),
        json!({"actor": format!("subject:{id}"), "action": "request.read",
               "subject_id": id, "outcome": "allowed"})
    );

    let bad = as_person(
        &app,
        "GET",
        &format!("{PATH}?limit=0&cursor=nope&kind=access"),
        &mine(),
        None,
    )
    .await;
    bad.assert_problem(400, "validation-failed");
    assert_eq!(bad.bad_fields(), ["cursor", "kind", "limit"]);
}
