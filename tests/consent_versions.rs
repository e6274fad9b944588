//! Purpose versions (contract v3, C): texts in three languages, `If-Match` on the purpose, and
//! a material version that invalidates earlier opt-in grants at once.

use crate::harness::{staff, subject_data, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{json, Value};
use uuid::Uuid;

pub const PARTNERS: &str = "marketing_partners";

/// A subject arranged directly in the database.
pub fn insert_subject(app: &TestApp) -> Uuid {
    let id = Uuid::now_v7();
    app.db.insert_subject(id, subject_data("Mari", "Maasikas"));
    id
}

/// POST a version with `If-Match`.
pub async fn add_version(
    app: &TestApp,
    purpose: &str,
    if_match: Option<&str>,
    body: Value,
) -> Resp {
    let mut req = TestRequest::default()
        .method(Method::POST)
        .uri(&format!("/v1/purposes/{purpose}/versions"))
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .set_json(body);
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

/// A version's body.
pub fn version(material: bool, extra: Value) -> Value {
    let mut body = json!({"text": {"et": "Uus tekst.", "en": "New text.", "ru": "Новый текст."},
        "policy_url": "https://planpro.ee/privacy/v2", "material": material});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

/// PUT a decision as staff.
pub async fn put(app: &TestApp, subject: Uuid, purpose: &str, body: Value) -> Resp {
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{subject}/consents/{purpose}"),
        &staff(),
        Some(body),
    )
    .await
}

/// The subject's flag of one purpose.
pub async fn flag_of(app: &TestApp, subject: Uuid, purpose: &str) -> Value {
    let res = app.get(&format!("/v1/subjects/{subject}/consents")).await;
    res.assert_status(200);
    res.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == purpose)
        .cloned()
        .unwrap_or_else(|| panic!("no flag of {purpose}"))
}

#[actix_web::test]
async fn every_purpose_starts_at_version_1_with_its_description() {
    let app = TestApp::spawn().await;
    let purpose = app.get("/v1/purposes/marketing_partners").await;
    purpose.assert_status(200);
    assert_eq!(purpose.header("etag").as_deref(), Some("\"1\""));
    let body = purpose.json();
    assert_eq!(body["current_version"], 1);
    assert_eq!(body["confirmation"], "none");
    assert_eq!(body["text"]["et"], body["description"]["et"]);
    let versions = app
        .get("/v1/purposes/marketing_partners/versions")
        .await
        .json();
    let first = &versions["items"][0];
    assert_eq!(first["version"], 1);
    assert_eq!(first["material"], false);
    assert_eq!(first["policy_url"], Value::Null);
    assert_eq!(first["text_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(first["text_sha256"], body["text_sha256"]);
}

#[actix_web::test]
async fn a_version_needs_the_purposes_current_etag() {
    let app = TestApp::spawn().await;
    let body = version(false, json!({}));
    add_version(&app, PARTNERS, None, body.clone())
        .await
        .assert_problem(428, "precondition-required");
    add_version(&app, PARTNERS, Some("\"7\""), body.clone())
        .await
        .assert_problem(412, "precondition-failed");
    add_version(&app, "no_such_purpose", Some("\"1\""), body.clone())
        .await
        .assert_problem(404, "not-found");
    assert_eq!(app.db.count("SELECT 1 FROM purpose_versions"), 2);

    let res = add_version(&app, PARTNERS, Some("\"1\""), body.clone()).await;
    res.assert_status(201);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(
        res.header("location").as_deref(),
        Some("/v1/purposes/marketing_partners/versions/2")
    );
    assert_eq!(res.json()["text"]["ru"], "Новый текст.");
    // The old tag is stale now.
    add_version(&app, PARTNERS, Some("\"1\""), body)
        .await
        .assert_problem(412, "precondition-failed");
    let purpose = app.get("/v1/purposes/marketing_partners").await.json();
    assert_eq!(purpose["current_version"], 2);
    assert_eq!(purpose["text"]["en"], "New text.");
    let two = app.get("/v1/purposes/marketing_partners/versions/2").await;
    two.assert_status(200);
    app.get("/v1/purposes/marketing_partners/versions/3")
        .await
        .assert_problem(404, "not-found");
}

#[actix_web::test]
async fn bad_versions_are_refused_naming_every_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let bad = json!({"text": {"et": " ", "en": "x".repeat(20_001)}, "policy_url": "http://x",
        "material": false, "validity_months": 0, "minimum_age": 12});
    let res = add_version(&app, PARTNERS, Some("\"1\""), bad).await;
    res.assert_status(400);
    assert_eq!(
        res.bad_fields(),
        [
            "minimum_age",
            "policy_url",
            "text.en",
            "text.et",
            "validity_months"
        ]
    );
    // Opt-in settings on an opt-out purpose: 400, even before a stale If-Match.
    let opt_in_only = version(
        true,
        json!({"validity_months": 12, "confirmation": "double_opt_in", "minimum_age": 13}),
    );
    let res = add_version(&app, "marketing_planpro", Some("\"9\""), opt_in_only).await;
    res.assert_status(400);
    assert_eq!(
        res.bad_fields(),
        ["confirmation", "minimum_age", "validity_months"]
    );
    assert_eq!(app.db.count("SELECT 1 FROM purpose_versions"), 2);
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 0);
}

#[actix_web::test]
async fn a_material_version_invalidates_earlier_opt_in_grants_and_counts_them() {
    let app = TestApp::spawn().await;
    let (a, b) = (insert_subject(&app), insert_subject(&app));
    for s in [a, b] {
        put(
            &app,
            s,
            PARTNERS,
            json!({"status": "granted", "method": "web_form"}),
        )
        .await
        .assert_status(200);
    }
    put(
        &app,
        b,
        "marketing_planpro",
        json!({"status": "granted", "method": "web_form"}),
    )
    .await
    .assert_status(200);
    // A change that is not material leaves every grant in force.
    add_version(&app, PARTNERS, Some("\"1\""), version(false, json!({})))
        .await
        .assert_status(201);
    assert_eq!(flag_of(&app, a, PARTNERS).await["state"], "given");
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'purpose.version'"),
        0
    );

    add_version(&app, PARTNERS, Some("\"2\""), version(true, json!({})))
        .await
        .assert_status(201);
    let flag = flag_of(&app, a, PARTNERS).await;
    assert_eq!(flag["state"], "invalidated");
    assert_eq!(flag["status"], "granted");
    assert_eq!(flag["eligible"], false);
    assert_eq!(flag["purpose_version"], 1);
    assert_eq!(
        app.db
            .scalar("SELECT count::text FROM access_log WHERE action = 'purpose.version'"),
        "2"
    );
    // The opt-out purpose's flags are untouched.
    add_version(
        &app,
        "marketing_planpro",
        Some("\"1\""),
        version(true, json!({})),
    )
    .await
    .assert_status(201);
    assert_eq!(
        flag_of(&app, b, "marketing_planpro").await["state"],
        "given"
    );

    // A stale version is refused; granting the current one puts the flag back in force.
    put(
        &app,
        a,
        PARTNERS,
        json!({"status": "granted", "method": "web_form", "purpose_version": 2}),
    )
    .await
    .assert_problem(409, "purpose-version-stale");
    let res = put(
        &app,
        a,
        PARTNERS,
        json!({"status": "granted", "method": "web_form", "purpose_version": 3}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.json()["state"], "given");
    assert_eq!(res.json()["purpose_version"], 3);
    let events = app
        .get(&format!("/v1/subjects/{a}/consents/history"))
        .await
        .json();
    assert_eq!(events["items"][0]["purpose_version"], 3);
    assert_eq!(events["items"][1]["purpose_version"], 1);
}
