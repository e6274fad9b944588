//! The recipient registry: create, validate, list, read, patch, scopes.

use crate::harness::{staff, token_for, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};

fn partner_oy() -> Value {
    json!({
        "name": "Partner OÜ",
        "registry_code": "12345678",
        "category": "platform_service_provider",
        "contact_email": "privacy@partner.ee"
    })
}

fn count_recipients(app: &TestApp) -> i64 {
    app.db.count("SELECT 1 FROM recipients")
}

async fn patch(
    app: &TestApp,
    id: &str,
    if_match: Option<&str>,
    body: Value,
) -> crate::harness::Resp {
    let mut req = TestRequest::patch()
        .uri(&format!("/v1/recipients/{id}"))
        .insert_header((
            "Authorization",
            format!("Bearer {}", token_for("tester", &staff(), None)),
        ))
        .insert_header(("Content-Type", "application/merge-patch+json"))
        .set_payload(body.to_string());
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

#[actix_web::test]
async fn create_answers_201_with_location_etag_and_the_stored_recipient() {
    let app = TestApp::spawn().await;
    let res = app.post("/v1/recipients", partner_oy()).await;
    res.assert_status(201);
    let body = res.json();
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        res.header("location").unwrap(),
        format!("/v1/recipients/{id}")
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(body["name"], "Partner OÜ");
    assert_eq!(body["registry_code"], "12345678");
    assert_eq!(body["category"], "platform_service_provider");
    assert_eq!(body["contact_email"], "privacy@partner.ee");
    assert_eq!(body["status"], "active");
    assert_eq!(body["version"], 1);
    assert!(body["created_at"].is_string() && body["updated_at"].is_string());
    assert_eq!(count_recipients(&app), 1);
    // Organisations are not data subjects: their registry writes no access-log entries.
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 0);
}

#[actix_web::test]
async fn every_category_of_the_policy_is_accepted_and_the_registry_code_is_optional() {
    let app = TestApp::spawn().await;
    for category in [
        "platform_service_provider",
        "local_government",
        "software_development_provider",
        "public_authority",
    ] {
        let res = app
            .post(
                "/v1/recipients",
                json!({"name": category, "category": category, "contact_email": "a@b.ee"}),
            )
            .await;
        res.assert_status(201);
        assert_eq!(res.json()["registry_code"], Value::Null);
    }
    assert_eq!(count_recipients(&app), 4);
}

#[actix_web::test]
async fn registry_codes_are_checked_by_their_check_digit() {
    let app = TestApp::spawn().await;
    for (n, code) in ["12345678", "70004235", "10000356", "10010360"]
        .iter()
        .enumerate()
    {
        app.post(
            "/v1/recipients",
            json!({"name": format!("Org {n}"), "registry_code": code,
                   "category": "local_government", "contact_email": "a@b.ee"}),
        )
        .await
        .assert_status(201);
    }
    for bad in [
        "12345670",
        "1234567",
        "123456789",
        "1234567a",
        "",
        "70004236",
    ] {
        let res = app
            .post(
                "/v1/recipients",
                json!({"name": "Bad", "registry_code": bad,
                       "category": "local_government", "contact_email": "a@b.ee"}),
            )
            .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["registry_code"], "{bad}");
    }
    assert_eq!(count_recipients(&app), 4);
}

#[actix_web::test]
async fn a_duplicate_registry_code_is_409_and_stores_nothing() {
    let app = TestApp::spawn().await;
    app.post("/v1/recipients", partner_oy())
        .await
        .assert_status(201);
    let mut again = partner_oy();
    again["name"] = json!("Another name");
    app.post("/v1/recipients", again)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(count_recipients(&app), 1);
}

#[actix_web::test]
async fn every_bad_field_is_named_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": "  ", "registry_code": "12345670", "category": "local_government",
                   "contact_email": "not an email", "id": "x", "status": "suspended"}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(
        res.bad_fields(),
        ["contact_email", "id", "name", "registry_code", "status"]
    );
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": "X", "category": "bank", "contact_email": "a@b.ee"}),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["category"]);
    let res = app.post("/v1/recipients", json!({})).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["category", "contact_email", "name"]);
    for email in ["a@b", "a@@b.ee", "a b@c.ee", "@b.ee", "a@b@c.ee"] {
        let res = app
            .post(
                "/v1/recipients",
                json!({"name": "X", "category": "local_government", "contact_email": email}),
            )
            .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["contact_email"], "{email}");
    }
    let long = format!("{}@example.ee", "a".repeat(250));
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": "X", "category": "local_government", "contact_email": long}),
        )
        .await;
    assert_eq!(res.bad_fields(), ["contact_email"]);
    assert_eq!(count_recipients(&app), 0);
}

#[actix_web::test]
async fn read_one_answers_etag_404_and_400() {
    let app = TestApp::spawn().await;
    let created = app.post("/v1/recipients", partner_oy()).await.json();
    let id = created["id"].as_str().unwrap();
    let res = app.get(&format!("/v1/recipients/{id}")).await;
    res.assert_status(200);
    assert_eq!(res.json(), created);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    app.get(&format!("/v1/recipients/{}", uuid::Uuid::now_v7()))
        .await
        .assert_problem(404, "not-found");
    let res = app.get("/v1/recipients/not-a-uuid").await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["id"]);
}

#[actix_web::test]
async fn list_pages_by_cursor_and_filters_by_status_and_category() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for (n, category) in ["local_government", "public_authority", "local_government"]
        .iter()
        .enumerate()
    {
        let res = app
            .post(
                "/v1/recipients",
                json!({"name": format!("R{n}"), "category": category, "contact_email": "a@b.ee"}),
            )
            .await;
        ids.push(res.json()["id"].as_str().unwrap().to_owned());
    }
    let first = app.get("/v1/recipients?limit=2").await;
    first.assert_status(200);
    let first = first.json();
    let page_ids: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(page_ids, [ids[0].as_str(), ids[1].as_str()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/v1/recipients?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["id"], ids[2].as_str());
    assert_eq!(second["next_cursor"], Value::Null);

    let governments = app
        .get("/v1/recipients?category=local_government")
        .await
        .json();
    assert_eq!(governments["items"].as_array().unwrap().len(), 2);

    patch(&app, &ids[0], Some("\"1\""), json!({"status": "suspended"}))
        .await
        .assert_status(200);
    let suspended = app.get("/v1/recipients?status=suspended").await.json();
    assert_eq!(suspended["items"].as_array().unwrap().len(), 1);
    assert_eq!(suspended["items"][0]["id"], ids[0].as_str());
    let active = app
        .get("/v1/recipients?status=active&category=local_government")
        .await
        .json();
    assert_eq!(active["items"].as_array().unwrap().len(), 1);
    assert_eq!(active["items"][0]["id"], ids[2].as_str());

    let res = app
        .get("/v1/recipients?status=gone&category=bank&limit=0&cursor=zzz")
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["category", "cursor", "limit", "status"]);
}

#[actix_web::test]
async fn patch_needs_if_match_and_honours_it() {
    let app = TestApp::spawn().await;
    let id = app.post("/v1/recipients", partner_oy()).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    patch(&app, &id, None, json!({"name": "Renamed OÜ"}))
        .await
        .assert_problem(428, "precondition-required");
    patch(&app, &id, Some("\"7\""), json!({"name": "Renamed OÜ"}))
        .await
        .assert_problem(412, "precondition-failed");
    patch(&app, &id, Some("W/\"1\""), json!({"name": "Renamed OÜ"}))
        .await
        .assert_problem(412, "precondition-failed");
    assert_eq!(
        app.db
            .scalar(&format!("SELECT name FROM recipients WHERE id = '{id}'")),
        "Partner OÜ"
    );

    let res = patch(
        &app,
        &id,
        Some("\"1\""),
        json!({"name": "Renamed OÜ", "contact_email": "dpo@partner.ee", "status": "suspended"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    let body = res.json();
    assert_eq!(body["name"], "Renamed OÜ");
    assert_eq!(body["contact_email"], "dpo@partner.ee");
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["version"], 2);
    assert_eq!(body["registry_code"], "12345678");
    assert_ne!(body["updated_at"], body["created_at"]);

    // The old tag is stale now.
    patch(&app, &id, Some("\"1\""), json!({"status": "active"}))
        .await
        .assert_problem(412, "precondition-failed");
    let res = patch(&app, &id, Some("\"2\""), json!({"status": "active"})).await;
    res.assert_status(200);
    assert_eq!(res.json()["status"], "active");
    assert_eq!(res.json()["version"], 3);
    // `*` matches any current version (RFC 9110).
    let res = patch(&app, &id, Some("*"), json!({"status": "suspended"})).await;
    res.assert_status(200);
    assert_eq!(res.json()["version"], 4);
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 0);
}

#[actix_web::test]
async fn patch_refuses_nulls_bad_values_and_read_only_fields() {
    let app = TestApp::spawn().await;
    let id = app.post("/v1/recipients", partner_oy()).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = patch(
        &app,
        &id,
        Some("\"1\""),
        json!({"name": null, "contact_email": "x", "status": "closed",
               "registry_code": "70004235", "version": 5}),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(
        res.bad_fields(),
        [
            "contact_email",
            "name",
            "registry_code",
            "status",
            "version"
        ]
    );
    let res = patch(&app, &id, Some("\"1\""), json!({"status": null})).await;
    assert_eq!(res.bad_fields(), ["status"]);
    patch(
        &app,
        &uuid::Uuid::now_v7().to_string(),
        Some("\"1\""),
        json!({"name": "X"}),
    )
    .await
    .assert_problem(404, "not-found");
    assert_eq!(
        app.db
            .scalar(&format!("SELECT version FROM recipients WHERE id = '{id}'")),
        "1"
    );
}

#[actix_web::test]
async fn an_empty_patch_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.post("/v1/recipients", partner_oy()).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = patch(&app, &id, Some("\"1\""), json!({})).await;
    res.assert_status(200);
    assert_eq!(res.json()["version"], 1);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
}

#[actix_web::test]
async fn scopes_are_enforced() {
    let app = TestApp::spawn().await;
    let id = app.post("/v1/recipients", partner_oy()).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.call(
        Method::POST,
        "/v1/recipients",
        &[Scope::RecipientsRead],
        Some(partner_oy()),
    )
    .await
    .assert_problem(403, "insufficient-scope");
    app.call(
        Method::GET,
        "/v1/recipients",
        &[Scope::RecipientsWrite],
        None,
    )
    .await
    .assert_problem(403, "insufficient-scope");
    app.call(
        Method::GET,
        &format!("/v1/recipients/{id}"),
        &[Scope::RecipientsRead],
        None,
    )
    .await
    .assert_status(200);
    let partner = token_for(
        "partner",
        &[Scope::Partner],
        Some(uuid::Uuid::parse_str(&id).unwrap()),
    );
    let res = app
        .send(
            TestRequest::get()
                .uri("/v1/recipients")
                .insert_header(("Authorization", format!("Bearer {partner}"))),
        )
        .await;
    res.assert_missing_scope("recipients:read");
    let res = app.send(TestRequest::get().uri("/v1/recipients")).await;
    res.assert_no_token();
    assert_eq!(count_recipients(&app), 1);
}
