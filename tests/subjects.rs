//! Subjects: creation and validation, reads and lists, rectification with optimistic
//! concurrency, the right-of-access export, scopes and the access log.

use crate::harness::{staff, token_for, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use diesel::connection::SimpleConnection;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};

/// A complete, valid subject from a third party.
fn mari() -> Value {
    json!({
        "kind": "client",
        "given_name": "Mari",
        "family_name": "Maasikas",
        "personal_code": "49403136526",
        "email": "mari@example.ee",
        "phone": "+3725551234",
        "address": {"street": "Pikk 1-2", "city": "Tallinn", "postal_code": "10123", "country": "EE"},
        "preferred_language": "et",
        "source": {
            "type": "third_party",
            "name": "Partner OÜ",
            "reference": "contract 2026-17",
            "collected_at": "2026-11-01T10:00:00Z",
            "lawful_collection_attestation": "signed statement 2026-17-A"
        }
    })
}

/// The fewest fields a subject can have.
fn minimal(given_name: &str) -> Value {
    json!({
        "kind": "contact",
        "given_name": given_name,
        "family_name": "Tamm",
        "source": {"type": "data_subject"}
    })
}

fn bearer(scopes: &[Scope]) -> (&'static str, String) {
    (
        "Authorization",
        format!("Bearer {}", token_for("tester", scopes, None)),
    )
}

/// Creates a subject and returns it.
async fn create(app: &TestApp, body: Value) -> Value {
    let res = app.post("/v1/subjects", body).await;
    res.assert_status(201);
    res.json()
}

async fn patch(app: &TestApp, id: &str, if_match: Option<&str>, body: Value) -> Resp {
    let mut req = TestRequest::patch()
        .uri(&format!("/v1/subjects/{id}"))
        .insert_header(bearer(&staff()))
        .set_json(body);
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

fn id_of(subject: &Value) -> String {
    subject["id"].as_str().expect("an id").to_owned()
}

fn subjects(app: &TestApp) -> i64 {
    app.db.count("SELECT 1 FROM subjects")
}

fn rectifications(app: &TestApp) -> i64 {
    app.db.count("SELECT 1 FROM rectifications")
}

/// Access-log entries with this action, subject and outcome.
fn logged(app: &TestApp, action: &str, subject: &str, outcome: &str) -> i64 {
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = '{action}' AND subject_id = '{subject}' \
         AND outcome = '{outcome}' AND actor = 'tester'"
    ))
}

/// Sets the value at a dotted path (creating objects on the way); `None` removes it.
fn with(mut body: Value, path: &str, value: Option<Value>) -> Value {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut target = &mut body;
    for part in parts {
        target = target
            .as_object_mut()
            .unwrap()
            .entry(part)
            .or_insert(json!({}));
    }
    let object = target.as_object_mut().unwrap();
    match value {
        Some(v) => {
            object.insert(last.to_owned(), v);
        }
        None => {
            object.remove(last);
        }
    }
    body
}

// ----- creation -----

#[actix_web::test]
async fn create_answers_201_with_location_etag_and_the_whole_record() {
    let app = TestApp::spawn().await;
    let res = app.post("/v1/subjects", mari()).await;
    res.assert_status(201);
    let body = res.json();
    let id = id_of(&body);
    assert_eq!(
        res.header("location").as_deref(),
        Some(format!("/v1/subjects/{id}").as_str())
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(body["version"], 1);
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    for field in [
        "kind",
        "given_name",
        "family_name",
        "personal_code",
        "email",
        "phone",
        "address",
        "preferred_language",
    ] {
        assert_eq!(body[field], mari()[field], "{field}");
    }
    assert_eq!(body["source"]["type"], "third_party");
    assert_eq!(body["source"]["name"], "Partner OÜ");
    assert_eq!(body["source"]["reference"], "contract 2026-17");
    assert_eq!(body["source"]["collected_at"], "2026-11-01T10:00:00Z");
    assert_eq!(
        body["source"]["lawful_collection_attestation"],
        "signed statement 2026-17-A"
    );
    assert!(body["created_at"].is_string());
    assert_eq!(body["created_at"], body["updated_at"]);
    assert_eq!(
        app.db.subject(&id).data.source_attestation.as_deref(),
        Some("signed statement 2026-17-A")
    );
}

#[actix_web::test]
async fn create_stores_trimmed_normalised_values_and_optional_fields_as_null() {
    let app = TestApp::spawn().await;
    let mut body = minimal("  Jaan  ");
    body["email"] = json!(" Jaan.Tamm@Example.EE ");
    let subject = create(&app, body).await;
    assert_eq!(subject["given_name"], "Jaan");
    assert_eq!(subject["email"], "Jaan.Tamm@example.ee");
    for field in ["personal_code", "phone", "address", "preferred_language"] {
        assert!(subject[field].is_null(), "{field}: {}", subject[field]);
    }
    assert_eq!(subject["source"]["type"], "data_subject");
    assert!(subject["source"]["lawful_collection_attestation"].is_null());
}

#[actix_web::test]
async fn create_writes_a_subject_create_entry_with_the_request_id() {
    let app = TestApp::spawn().await;
    let res = app
        .send(
            TestRequest::post()
                .uri("/v1/subjects")
                .insert_header(bearer(&[Scope::SubjectsWrite]))
                .insert_header(("X-Request-Id", "req-create-1"))
                .insert_header(("X-Access-Purpose", "new client"))
                .set_json(mari()),
        )
        .await;
    res.assert_status(201);
    let id = id_of(&res.json());
    assert_eq!(logged(&app, "subject.create", &id, "allowed"), 1);
    assert_eq!(
        app.db.scalar(&format!(
            "SELECT request_id || '|' || purpose FROM access_log WHERE subject_id = '{id}'"
        )),
        "req-create-1|new client"
    );
}

/// Every rule of a create, one bad field at a time: the field is named and nothing is stored.
#[actix_web::test]
async fn each_invalid_field_is_named_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let long = |n: usize| json!("x".repeat(n));
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        ("kind", Some(json!("customer")), "kind"),
        ("kind", Some(json!(1)), "kind"),
        ("kind", None, "kind"),
        ("given_name", Some(json!("")), "given_name"),
        ("given_name", Some(json!("   ")), "given_name"),
        ("given_name", Some(long(201)), "given_name"),
        ("given_name", Some(json!("Ma\nri")), "given_name"),
        ("given_name", Some(json!(5)), "given_name"),
        ("given_name", None, "given_name"),
        ("family_name", Some(json!("Maa\u{0}sikas")), "family_name"),
        ("family_name", None, "family_name"),
        ("personal_code", Some(json!("49403136527")), "personal_code"),
        ("personal_code", Some(json!("4940313652")), "personal_code"),
        ("personal_code", Some(json!("99403136526")), "personal_code"),
        ("personal_code", Some(json!("30002290000")), "personal_code"),
        (
            "personal_code",
            Some(json!(49403136526_i64)),
            "personal_code",
        ),
        ("email", Some(json!("mari@")), "email"),
        ("email", Some(json!("mari example.ee")), "email"),
        ("email", Some(json!("mari@example")), "email"),
        ("email", Some(json!("mari@@example.ee")), "email"),
        ("phone", Some(json!("5551234")), "phone"),
        ("phone", Some(json!("+0725551234")), "phone"),
        ("phone", Some(json!("+372 5551234")), "phone"),
        ("address", Some(json!("Pikk 1, Tallinn")), "address"),
        ("address.country", Some(json!("ee")), "address.country"),
        ("address.country", Some(json!("XX")), "address.country"),
        ("address.street", Some(long(201)), "address.street"),
        ("address.city", Some(json!("")), "address.city"),
        (
            "address.postal_code",
            Some(long(201)),
            "address.postal_code",
        ),
        ("address.floor", Some(json!("3")), "address.floor"),
        (
            "preferred_language",
            Some(json!("fi")),
            "preferred_language",
        ),
        ("source", None, "source"),
        ("source.type", Some(json!("partner")), "source.type"),
        ("source.type", None, "source.type"),
        ("source.name", Some(long(201)), "source.name"),
        ("source.reference", Some(long(201)), "source.reference"),
        (
            "source.collected_at",
            Some(json!("yesterday")),
            "source.collected_at",
        ),
        (
            "source.collected_at",
            Some(json!("2999-01-01T00:00:00Z")),
            "source.collected_at",
        ),
        (
            "source.lawful_collection_attestation",
            Some(long(501)),
            "source.lawful_collection_attestation",
        ),
        (
            "source.lawful_collection_attestation",
            None,
            "source.lawful_collection_attestation",
        ),
        ("source.extra", Some(json!("x")), "source.extra"),
    ];
    for (path, value, field) in cases {
        let body = with(mari(), path, value.clone());
        let res = app.post("/v1/subjects", body).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(
            res.bad_fields(),
            [field],
            "{path} = {value:?}: {}",
            res.json()
        );
    }
    assert_eq!(subjects(&app), 0);
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 0);
}

#[actix_web::test]
async fn several_bad_fields_are_named_together() {
    let app = TestApp::spawn().await;
    let mut body = mari();
    body["given_name"] = json!(" ");
    body["personal_code"] = json!("49403136520");
    body["email"] = json!("not-an-email");
    body["phone"] = json!("555");
    body["address"]["country"] = json!("Estonia");
    body["preferred_language"] = json!("de");
    body["source"]["lawful_collection_attestation"] = Value::Null;
    body["nickname"] = json!("Mari-Mari");
    let res = app.post("/v1/subjects", body).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(
        res.bad_fields(),
        [
            "address.country",
            "email",
            "given_name",
            "nickname",
            "personal_code",
            "phone",
            "preferred_language",
            "source.lawful_collection_attestation",
        ]
    );
    assert_eq!(res.json()["detail"], "8 fields are invalid");
    assert_eq!(subjects(&app), 0);
}

#[actix_web::test]
async fn nested_and_missing_fields_are_each_named_without_hiding_others() {
    let app = TestApp::spawn().await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec!["family_name", "given_name", "kind", "source"],
        ),
        (
            json!({"kind": null, "given_name": null, "family_name": "Tamm", "source": null, "email": "x"}),
            vec!["email", "given_name", "kind", "source"],
        ),
        (
            with(
                mari(),
                "address",
                Some(
                    json!({"street": 5, "city": "", "country": "xx", "floor": 1, "postal_code": null}),
                ),
            ),
            vec![
                "address.city",
                "address.country",
                "address.floor",
                "address.street",
            ],
        ),
        (
            with(
                with(
                    mari(),
                    "source",
                    Some(json!({"name": ["Partner"], "extra": true})),
                ),
                "phone",
                Some(json!("1")),
            ),
            vec!["phone", "source.extra", "source.name", "source.type"],
        ),
        (
            with(mari(), "source", Some(json!("Partner OÜ"))),
            vec!["source"],
        ),
    ];
    for (body, fields) in cases {
        let res = app.post("/v1/subjects", body.clone()).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{body}: {}", res.json());
    }
    assert_eq!(subjects(&app), 0);
}

#[actix_web::test]
async fn a_third_party_source_needs_an_attestation_and_others_do_not() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/subjects",
            with(mari(), "source.lawful_collection_attestation", None),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["source.lawful_collection_attestation"]);
    let mut registry = with(mari(), "source.lawful_collection_attestation", None);
    registry["source"]["type"] = json!("public_registry");
    create(&app, registry).await;
    assert_eq!(subjects(&app), 1);
}

#[actix_web::test]
async fn the_client_cannot_set_id_version_or_timestamps() {
    let app = TestApp::spawn().await;
    let mut body = mari();
    body["id"] = json!("018f0000-0000-7000-8000-000000000000");
    body["version"] = json!(42);
    body["created_at"] = json!("2020-01-01T00:00:00Z");
    body["updated_at"] = json!("2020-01-01T00:00:00Z");
    let res = app.post("/v1/subjects", body).await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(
        res.bad_fields(),
        ["created_at", "id", "updated_at", "version"]
    );
    for error in res.json()["errors"].as_array().unwrap() {
        assert_eq!(error["message"], "unknown field");
    }
    assert_eq!(subjects(&app), 0);

    let subject = create(&app, mari()).await;
    let id = id_of(&subject);
    let res = patch(
        &app,
        &id,
        Some("\"1\""),
        json!({"reason": "x", "id": "018f0000-0000-7000-8000-000000000000", "version": 9, "created_at": "2020-01-01T00:00:00Z"}),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["created_at", "id", "version"]);
    assert_eq!(
        app.db
            .scalar(&format!("SELECT version FROM subjects WHERE id = '{id}'")),
        "1"
    );
    assert_eq!(rectifications(&app), 0);
}

#[actix_web::test]
async fn each_check_digit_branch_is_accepted_and_a_wrong_digit_refused() {
    let app = TestApp::spawn().await;
    // Plain weights; plain gives 10 so the second weights; both give 10 so the digit is 0.
    for (n, code) in ["37605030004", "37605030064", "37605030920"]
        .iter()
        .enumerate()
    {
        let mut body = minimal(&format!("Person {n}"));
        body["personal_code"] = json!(code);
        let subject = create(&app, body).await;
        assert_eq!(subject["personal_code"], *code);
    }
    for wrong in ["37605030005", "37605030060", "37605030921"] {
        let mut body = minimal("Wrong");
        body["personal_code"] = json!(wrong);
        let res = app.post("/v1/subjects", body).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["personal_code"]);
        assert!(
            res.json()["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("check digit"),
            "{}",
            res.json()
        );
    }
    assert_eq!(subjects(&app), 3);
}

#[actix_web::test]
async fn the_birth_date_must_exist_in_the_century_of_the_first_digit() {
    let app = TestApp::spawn().await;
    // 29 February 2000 and 2004 exist, 1900 and 2100 do not (check digits are correct).
    for (n, code) in ["50002290002", "60402290004", "19602290001"]
        .iter()
        .enumerate()
    {
        let mut body = minimal(&format!("Leap {n}"));
        body["personal_code"] = json!(code);
        create(&app, body).await;
    }
    for no_such_day in ["30002290000", "70002290004", "30102290003", "47604310004"] {
        let mut body = minimal("Nobody");
        body["personal_code"] = json!(no_such_day);
        let res = app.post("/v1/subjects", body).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["personal_code"], "{no_such_day}");
    }
    assert_eq!(subjects(&app), 3);
}

#[actix_web::test]
async fn a_duplicate_personal_code_is_409_and_not_stored() {
    let app = TestApp::spawn().await;
    create(&app, mari()).await;
    let mut again = mari();
    again["given_name"] = json!("Maria");
    app.post("/v1/subjects", again)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(subjects(&app), 1);
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 1);

    let mut other = minimal("Jaan");
    other["personal_code"] = json!("37605030004");
    let other = create(&app, other).await;
    let res = patch(
        &app,
        &id_of(&other),
        Some("\"1\""),
        json!({"reason": "typo", "personal_code": "49403136526"}),
    )
    .await;
    res.assert_problem(409, "conflict");
    assert_eq!(rectifications(&app), 0);
    assert_eq!(
        app.db.subject(id_of(&other)).data.personal_code.as_deref(),
        Some("37605030004")
    );
}

// ----- reading -----

#[actix_web::test]
async fn get_answers_the_subject_with_its_etag_and_logs_the_read() {
    let app = TestApp::spawn().await;
    let created = create(&app, mari()).await;
    let id = id_of(&created);
    let res = app.get(&format!("/v1/subjects/{id}")).await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.json(), created);
    assert_eq!(logged(&app, "subject.read", &id, "allowed"), 1);
}

#[actix_web::test]
async fn unknown_and_malformed_ids_are_404_and_400() {
    let app = TestApp::spawn().await;
    let unknown = uuid::Uuid::now_v7();
    for path in ["", "/rectifications", "/export"] {
        app.get(&format!("/v1/subjects/{unknown}{path}"))
            .await
            .assert_problem(404, "not-found");
        let res = app.get(&format!("/v1/subjects/not-a-uuid{path}")).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["id"]);
    }
    patch(
        &app,
        &unknown.to_string(),
        Some("\"1\""),
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(404, "not-found");
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 0);
}

#[actix_web::test]
async fn the_list_filters_exactly_by_personal_code_and_email() {
    let app = TestApp::spawn().await;
    let mari = create(&app, mari()).await;
    let mut jaan = minimal("Jaan");
    jaan["personal_code"] = json!("37605030004");
    jaan["email"] = json!("shared@example.ee");
    let jaan = create(&app, jaan).await;
    let mut juku = minimal("Juku");
    juku["email"] = json!("shared@example.ee");
    let juku = create(&app, juku).await;

    let ids = |res: &Resp| -> Vec<String> {
        res.assert_status(200);
        res.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect()
    };
    let all = app.get("/v1/subjects").await;
    assert_eq!(ids(&all), [id_of(&mari), id_of(&jaan), id_of(&juku)]);
    assert!(all.json()["next_cursor"].is_null());
    assert_eq!(
        ids(&app.get("/v1/subjects?personal_code=37605030004").await),
        [id_of(&jaan)]
    );
    assert_eq!(
        ids(&app.get("/v1/subjects?email=shared@EXAMPLE.ee").await),
        [id_of(&jaan), id_of(&juku)]
    );
    assert_eq!(
        ids(&app
            .get("/v1/subjects?email=shared@example.ee&personal_code=37605030004")
            .await),
        [id_of(&jaan)]
    );
    assert!(ids(&app.get("/v1/subjects?personal_code=37605030064").await).is_empty());
    assert!(ids(&app.get("/v1/subjects?email=mari@example.com").await).is_empty());
}

#[actix_web::test]
async fn invalid_list_parameters_are_each_named() {
    let app = TestApp::spawn().await;
    create(&app, mari()).await;
    let res = app
        .get("/v1/subjects?personal_code=49403136527&email=nope&limit=0&cursor=zzz")
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(
        res.bad_fields(),
        ["cursor", "email", "limit", "personal_code"]
    );
    let res = app.get("/v1/subjects?personal_code=123").await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["personal_code"]);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'subject.list'"),
        0
    );
}

#[actix_web::test]
async fn the_cursor_pages_through_every_subject_once_and_logs_each_returned() {
    let app = TestApp::spawn().await;
    let mut created = Vec::new();
    for n in 0..7 {
        created.push(id_of(&create(&app, minimal(&format!("Person {n}"))).await));
    }
    let mut seen = Vec::new();
    let mut path = "/v1/subjects?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let res = app.get(&path).await;
        res.assert_status(200);
        let page = res.json();
        let items = page["items"].as_array().unwrap();
        pages += 1;
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(id_of));
        // A subject added while paging lands after the cursor and is still seen, once.
        if pages == 1 {
            created.push(id_of(&create(&app, minimal("Late")).await));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/subjects?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "no duplicates, no gaps, in id order");
    for id in &created {
        assert_eq!(logged(&app, "subject.list", id, "allowed"), 1, "{id}");
    }
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'subject.list'"),
        8
    );
}

// ----- rectification -----

#[actix_web::test]
async fn if_match_is_required_and_must_be_the_current_version() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    let change = json!({"reason": "new address", "email": "mari@example.com"});
    patch(&app, &id, None, change.clone())
        .await
        .assert_problem(428, "precondition-required");
    // `If-Match: *` matches any current version (RFC 9110): see
    // idempotency::if_match_star_matches_any_current_version.
    for stale in ["\"2\"", "\"0\"", "W/\"1\"", "1", "\"x\""] {
        patch(&app, &id, Some(stale), change.clone())
            .await
            .assert_problem(412, "precondition-failed");
    }
    assert_eq!(rectifications(&app), 0);
    let current = app.get(&format!("/v1/subjects/{id}")).await;
    assert_eq!(current.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(current.json()["email"], "mari@example.ee");

    let res = patch(&app, &id, Some("\"1\""), change.clone()).await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    // The old ETag is stale now.
    patch(&app, &id, Some("\"1\""), change)
        .await
        .assert_problem(412, "precondition-failed");
    assert_eq!(rectifications(&app), 1);
}

#[actix_web::test]
async fn a_rectification_records_each_changed_field_with_old_and_new_values() {
    let app = TestApp::spawn().await;
    let created = create(&app, mari()).await;
    let id = id_of(&created);
    let req = TestRequest::patch()
        .uri(&format!("/v1/subjects/{id}"))
        .insert_header(bearer(&[Scope::SubjectsWrite]))
        .insert_header(("If-Match", "\"1\""))
        .insert_header(("X-Request-Id", "req-rectify-1"))
        .insert_header(("Content-Type", "application/merge-patch+json"))
        .set_payload(
            json!({
                "reason": " the person reported a move ",
                "email": "mari@example.com",
                "address": {"city": "Tartu", "postal_code": "50090"},
                "preferred_language": "en",
                "given_name": "Mari"
            })
            .to_string(),
        );
    let res = app.send(req).await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(body["version"], 2);
    assert_eq!(body["email"], "mari@example.com");
    assert_eq!(
        body["address"],
        json!({"street": "Pikk 1-2", "city": "Tartu", "postal_code": "50090", "country": "EE"})
    );
    assert_eq!(body["preferred_language"], "en");
    assert_eq!(body["created_at"], created["created_at"]);
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(time(&body["updated_at"]) > time(&created["updated_at"]));

    // One row per changed field; the unchanged given_name is not one.
    let history = app.get(&format!("/v1/subjects/{id}/rectifications")).await;
    history.assert_status(200);
    let page = history.json();
    let items = page["items"].as_array().unwrap();
    let changes: Vec<(String, Value, Value)> = items
        .iter()
        .map(|r| {
            (
                r["field"].as_str().unwrap().to_owned(),
                r["old_value"].clone(),
                r["new_value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                "email".to_owned(),
                json!("mari@example.ee"),
                json!("mari@example.com")
            ),
            ("address.city".to_owned(), json!("Tallinn"), json!("Tartu")),
            (
                "address.postal_code".to_owned(),
                json!("10123"),
                json!("50090")
            ),
            ("preferred_language".to_owned(), json!("et"), json!("en")),
        ]
    );
    for item in items {
        assert_eq!(item["reason"], "the person reported a move");
        assert_eq!(item["actor"], "tester");
        assert_eq!(item["request_id"], "req-rectify-1");
        assert_eq!(item["at"], body["updated_at"]);
        assert!(uuid::Uuid::parse_str(item["id"].as_str().unwrap()).is_ok());
    }
    assert!(page["next_cursor"].is_null());
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM rectifications WHERE subject_id = '{id}' AND request_id = 'req-rectify-1'"
        )),
        4
    );
    assert_eq!(logged(&app, "subject.rectify", &id, "allowed"), 1);
    assert_eq!(logged(&app, "subject.read", &id, "allowed"), 1);
}

#[actix_web::test]
async fn null_clears_an_optional_field_and_nested_objects_merge() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    let res = patch(
        &app,
        &id,
        Some("\"1\""),
        json!({"reason": "asked to remove", "phone": null, "address": {"street": null}, "source": {"name": null}}),
    )
    .await;
    res.assert_status(200);
    let body = res.json();
    assert!(body["phone"].is_null());
    assert_eq!(
        body["address"],
        json!({"street": null, "city": "Tallinn", "postal_code": "10123", "country": "EE"})
    );
    assert!(body["source"]["name"].is_null());
    assert_eq!(body["source"]["type"], "third_party");
    assert_eq!(body["source"]["reference"], "contract 2026-17");
    let stored = app.db.subject(&id).data;
    assert!(stored.phone.is_none() && stored.address_street.is_none());
    assert_eq!(stored.address_city.as_deref(), Some("Tallinn"));
    assert_eq!(
        app.db
            .rectifications(&id)
            .iter()
            .filter(|r| r.field == "phone"
                && r.old_value == Some(json!("+3725551234"))
                && r.new_value.is_none())
            .count(),
        1
    );
    assert_eq!(rectifications(&app), 3);

    // The whole address at once: each remaining line is one rectification.
    let res = patch(
        &app,
        &id,
        Some("\"2\""),
        json!({"reason": "moved abroad", "address": null}),
    )
    .await;
    res.assert_status(200);
    assert!(res.json()["address"].is_null());
    assert_eq!(
        app.db
            .rectifications(&id)
            .iter()
            .filter(|r| r.field.starts_with("address.") && r.new_value.is_none())
            .count(),
        4
    );
}

#[actix_web::test]
async fn the_patched_record_is_validated_like_a_new_one_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"reason": " ", "email": "nope", "address": {"country": "XX"}, "given_name": null}),
            vec!["address.country", "email", "given_name", "reason"],
        ),
        (json!({"email": "mari@example.com"}), vec!["reason"]),
        (
            json!({"reason": "x", "source": {"lawful_collection_attestation": null}}),
            vec!["source.lawful_collection_attestation"],
        ),
        (
            json!({"reason": "x", "source": {"type": "nobody"}}),
            vec!["source.type"],
        ),
        (json!({"reason": "x", "source": null}), vec!["source"]),
        (
            json!({"reason": "x", "kind": null, "family_name": ""}),
            vec!["family_name", "kind"],
        ),
        (
            json!({"reason": "x", "address": {"floor": 3}}),
            vec!["address.floor"],
        ),
        (
            json!({"reason": "x", "phone": 3725551234_i64}),
            vec!["phone"],
        ),
        (
            json!({"reason": "x".repeat(501), "phone": "+3725550000"}),
            vec!["reason"],
        ),
        (json!({"reason": "x", "nickname": "M"}), vec!["nickname"]),
    ];
    for (body, fields) in cases {
        let res = patch(&app, &id, Some("\"1\""), body.clone()).await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), fields, "{body}: {}", res.json());
    }
    assert_eq!(rectifications(&app), 0);
    let stored = app.db.subject(&id);
    assert_eq!(
        format!(
            "{}{}{}",
            stored.version,
            stored.data.email.unwrap(),
            stored.data.phone.unwrap()
        ),
        "1mari@example.ee+3725551234"
    );
    assert_eq!(logged(&app, "subject.rectify", &id, "allowed"), 0);

    // Switching to a third party with its attestation in the same patch is fine.
    let mut registry = with(mari(), "source.lawful_collection_attestation", None);
    registry["source"]["type"] = json!("public_registry");
    registry["personal_code"] = json!("37605030004");
    let other = id_of(&create(&app, registry).await);
    patch(
        &app,
        &other,
        Some("\"1\""),
        json!({"reason": "x", "source": {"type": "third_party"}}),
    )
    .await
    .assert_problem(400, "validation-failed");
    patch(
        &app,
        &other,
        Some("\"1\""),
        json!({"reason": "x", "source": {"type": "third_party", "lawful_collection_attestation": "statement 7"}}),
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn a_patch_that_changes_nothing_keeps_the_version_and_records_nothing() {
    let app = TestApp::spawn().await;
    let created = create(&app, mari()).await;
    let id = id_of(&created);
    let res = patch(
        &app,
        &id,
        Some("\"1\""),
        json!({"reason": "checked with the person", "email": "mari@EXAMPLE.ee", "given_name": " Mari ", "address": {"country": "EE"}}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.json(), created);
    assert_eq!(rectifications(&app), 0);
    assert_eq!(logged(&app, "subject.rectify", &id, "allowed"), 1);
}

#[actix_web::test]
async fn patch_bodies_must_be_json() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    let res = app
        .send(
            TestRequest::patch()
                .uri(&format!("/v1/subjects/{id}"))
                .insert_header(bearer(&staff()))
                .insert_header(("If-Match", "\"1\""))
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("reason=x"),
        )
        .await;
    res.assert_problem(415, "unsupported-media-type");
    let res = app
        .send(
            TestRequest::patch()
                .uri(&format!("/v1/subjects/{id}"))
                .insert_header(bearer(&staff()))
                .insert_header(("If-Match", "\"1\""))
                .insert_header(("Content-Type", "application/merge-patch+json"))
                .set_payload("{\"reason\": "),
        )
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["body"]);
    assert_eq!(rectifications(&app), 0);
}

/// Sends two patches from version 1 at once and checks that exactly one of them took effect.
async fn race_two_patches(app: &TestApp, id: &str) {
    let (first, second) = futures_util::future::join(
        patch(
            app,
            id,
            Some("\"1\""),
            json!({"reason": "first", "email": "first@example.ee"}),
        ),
        patch(
            app,
            id,
            Some("\"1\""),
            json!({"reason": "second", "email": "second@example.ee"}),
        ),
    )
    .await;
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);
    let winner = if first.status == 200 { &first } else { &second };
    let winning_email = winner.json()["email"].as_str().unwrap().to_owned();
    assert_eq!(rectifications(app), 1);
    let email = app.db.rectifications(id);
    let email = email.iter().find(|r| r.field == "email").unwrap();
    assert_eq!(email.new_value, Some(json!(winning_email)));
    let stored = app.db.subject(id);
    assert_eq!(
        format!("{} {}", stored.version, stored.data.email.unwrap()),
        format!("2 {winning_email}")
    );
    assert_eq!(logged(app, "subject.rectify", id, "allowed"), 1);
}

#[actix_web::test]
async fn of_two_concurrent_patches_from_one_version_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    race_two_patches(&app, &id).await;
}

/// The race the version condition of the UPDATE exists for: a row lock held elsewhere lets both
/// patches read version 1 and reach their UPDATE before either commits.
#[actix_web::test]
async fn two_patches_that_both_read_the_same_version_cannot_both_update() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    let mut holder = app.db.conn();
    let (locked, wait_for_lock) = std::sync::mpsc::channel();
    let lock_id = id.clone();
    let holding = std::thread::spawn(move || {
        holder
            .batch_execute(&format!(
                "BEGIN; SELECT 1 FROM subjects WHERE id = '{lock_id}' FOR UPDATE"
            ))
            .unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        holder.batch_execute("ROLLBACK").unwrap();
    });
    wait_for_lock.recv().unwrap();
    race_two_patches(&app, &id).await;
    holding.join().unwrap();
}

#[actix_web::test]
async fn rectifications_page_with_a_cursor() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    for (version, n) in (1..=3).zip(["a", "b", "c"]) {
        patch(
            &app,
            &id,
            Some(&format!("\"{version}\"")),
            json!({"reason": format!("step {n}"), "email": format!("{n}@example.ee"), "phone": format!("+37255500{version}0")}),
        )
        .await
        .assert_status(200);
    }
    let first = app
        .get(&format!("/v1/subjects/{id}/rectifications?limit=4"))
        .await;
    first.assert_status(200);
    let cursor = first.json()["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&format!(
            "/v1/subjects/{id}/rectifications?limit=4&cursor={cursor}"
        ))
        .await;
    second.assert_status(200);
    assert!(second.json()["next_cursor"].is_null());
    let reasons: Vec<String> = [first.json(), second.json()]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .map(|r| {
            format!(
                "{}:{}",
                r["reason"].as_str().unwrap(),
                r["field"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "step a:email",
            "step a:phone",
            "step b:email",
            "step b:phone",
            "step c:email",
            "step c:phone"
        ]
    );
    let res = app
        .get(&format!("/v1/subjects/{id}/rectifications?cursor=bad"))
        .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["cursor"]);
    assert_eq!(logged(&app, "subject.read", &id, "allowed"), 2);
}

// ----- export -----

#[actix_web::test]
async fn the_export_holds_every_key_and_is_logged() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    patch(
        &app,
        &id,
        Some("\"1\""),
        json!({"reason": "moved", "address": {"city": "Tartu"}}),
    )
    .await
    .assert_status(200);
    let res = app.get(&format!("/v1/subjects/{id}/export")).await;
    res.assert_status(200);
    let doc = res.json();
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_log",
            "access_responses",
            "art14",
            "consent_history",
            "consents",
            "disclosure_authorizations",
            "disclosures",
            "generated_at",
            "holds",
            "information_notices",
            "notifications",
            "privacy_requests",
            "purposes",
            "recipient_categories",
            "rectifications",
            "restriction",
            "subject",
        ]
    );
    assert_eq!(doc["subject"]["id"], id.as_str());
    assert_eq!(doc["subject"]["version"], 2);
    assert_eq!(doc["subject"]["source"]["type"], "third_party");
    assert_eq!(
        doc["subject"]["source"]["lawful_collection_attestation"],
        "signed statement 2026-17-A"
    );
    for key in [
        "consents",
        "consent_history",
        "disclosure_authorizations",
        "disclosures",
        "access_log",
    ] {
        assert!(doc[key].is_array(), "{key}");
    }
    let rectified = doc["rectifications"].as_array().unwrap();
    assert_eq!(rectified.len(), 1);
    assert_eq!(rectified[0]["field"], "address.city");
    assert_eq!(rectified[0]["new_value"], "Tartu");

    let purposes: Vec<&str> = doc["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for expected in [
        "platform_services",
        "legal_obligations",
        "marketing_planpro",
        "marketing_partners",
    ] {
        assert!(purposes.contains(&expected), "{purposes:?}");
    }
    let categories: Vec<&str> = doc["recipient_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        categories,
        [
            "platform_service_provider",
            "local_government",
            "software_development_provider",
            "public_authority"
        ]
    );
    for described in doc["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc["recipient_categories"].as_array().unwrap())
    {
        for language in ["et", "en"] {
            assert!(
                !described["description"][language]
                    .as_str()
                    .unwrap()
                    .is_empty(),
                "{described}"
            );
        }
    }
    assert!(chrono::DateTime::parse_from_rfc3339(doc["generated_at"].as_str().unwrap()).is_ok());
    assert_eq!(logged(&app, "subject.export", &id, "allowed"), 1);
}

// ----- authorization -----

/// A request made with a token that lacks its scope, and the access-log entry it must leave.
struct Refused<'a> {
    method: Method,
    path: String,
    scopes: &'a [Scope],
    body: Option<Value>,
    action: &'a str,
    subject: Option<&'a str>,
}

#[actix_web::test]
async fn a_token_without_the_scope_is_refused_and_the_refusal_logged() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    let read_only: &[Scope] = &[Scope::SubjectsRead];
    let write_only: &[Scope] = &[Scope::SubjectsWrite, Scope::ConsentsRead];
    let read = |path: String, action, subject| Refused {
        method: Method::GET,
        path,
        scopes: write_only,
        body: None,
        action,
        subject,
    };
    let cases = [
        Refused {
            method: Method::POST,
            path: "/v1/subjects".to_owned(),
            scopes: read_only,
            body: Some(minimal("Nobody")),
            action: "subject.create",
            subject: None,
        },
        // Refused before the body is looked at: an invalid body is still a 403.
        Refused {
            method: Method::POST,
            path: "/v1/subjects".to_owned(),
            scopes: read_only,
            body: Some(json!({"kind": "nobody"})),
            action: "subject.create",
            subject: None,
        },
        Refused {
            method: Method::PATCH,
            path: format!("/v1/subjects/{id}"),
            scopes: read_only,
            body: Some(json!({"reason": "x", "email": "x@example.ee"})),
            action: "subject.rectify",
            subject: Some(&id),
        },
        read(format!("/v1/subjects/{id}"), "subject.read", Some(&id)),
        read("/v1/subjects?limit=0".to_owned(), "subject.list", None),
        read(
            format!("/v1/subjects/{id}/rectifications"),
            "subject.read",
            Some(&id),
        ),
        read(
            format!("/v1/subjects/{id}/export"),
            "subject.export",
            Some(&id),
        ),
    ];
    for case in cases {
        let subject_is = case
            .subject
            .map_or("IS NULL".to_owned(), |s| format!("= '{s}'"));
        let denied = || {
            app.db.count(&format!(
                "SELECT 1 FROM access_log WHERE action = '{}' AND outcome = 'denied' \
                 AND actor = 'tester' AND subject_id {subject_is}",
                case.action
            ))
        };
        let before = denied();
        let res = app
            .call(case.method.clone(), &case.path, case.scopes, case.body)
            .await;
        let problem = res.assert_problem(403, "insufficient-scope");
        assert!(problem["detail"].as_str().unwrap().contains("subjects:"));
        assert_eq!(denied(), before + 1, "{} {}", case.method, case.path);
    }
    assert_eq!(subjects(&app), 1);
    assert_eq!(rectifications(&app), 0);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE outcome = 'denied'"),
        7
    );
}

#[actix_web::test]
async fn requests_without_a_token_are_401_and_touch_nothing() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    let requests = [
        TestRequest::get().uri("/v1/subjects"),
        TestRequest::get().uri(&format!("/v1/subjects/{id}")),
        TestRequest::get().uri(&format!("/v1/subjects/{id}/rectifications")),
        TestRequest::get().uri(&format!("/v1/subjects/{id}/export")),
        TestRequest::post().uri("/v1/subjects").set_json(mari()),
        TestRequest::patch()
            .uri(&format!("/v1/subjects/{id}"))
            .insert_header(("If-Match", "\"1\""))
            .set_json(json!({"reason": "x", "email": "x@example.ee"})),
    ];
    for req in requests {
        let res = app.send(req).await;
        res.assert_no_token();
    }
    assert_eq!(subjects(&app), 1);
    assert_eq!(rectifications(&app), 0);
    assert_eq!(app.db.count("SELECT 1 FROM access_log"), 1);
}

#[actix_web::test]
async fn a_malformed_patch_is_400_before_any_precondition_is_looked_at() {
    let app = TestApp::spawn().await;
    let subject = create(&app, mari()).await;
    let id = id_of(&subject);
    let res = patch(
        &app,
        &id,
        None,
        json!({"reason": "typo", "source": [null], "email": 5, "address": {"city": {"x": 1}}}),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["address.city", "email", "source"]);
    // Well-typed but invalid values are named before the precondition too.
    let res = patch(
        &app,
        &id,
        Some("\"999\""),
        json!({"reason": " ", "preferred_language": "AAA", "email": "no-at-sign", "address": {"country": "XX"}, "given_name": null}),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(
        res.bad_fields(),
        [
            "address.country",
            "email",
            "given_name",
            "preferred_language",
            "reason"
        ]
    );
    // A rule joining fields is judged against the real record: its attestation stays.
    let res = patch(
        &app,
        &id,
        Some("\"1\""),
        json!({"reason": "re-sourced", "source": {"type": "third_party"}}),
    )
    .await;
    assert_ne!(
        res.status.as_u16(),
        400,
        "{}",
        String::from_utf8_lossy(&res.body)
    );
    assert_eq!(rectifications(&app), 0);
}

/// The export key that holds each table's rows about the subject. A new table with a
/// `subject_id` column fails the test below until the export (and this map) covers it.
/// Tables with a subject id that an export never shows: the record of an erasure (an erased
/// subject has no export, 410).
const NEVER_EXPORTED: [&str; 1] = ["erasures"];

const EXPORTED_TABLES: [(&str, &str); 14] = [
    ("subjects", "subject"),
    ("rectifications", "rectifications"),
    ("consents", "consents"),
    ("consent_events", "consent_history"),
    ("disclosure_authorizations", "disclosure_authorizations"),
    ("disclosures", "disclosures"),
    ("access_log", "access_log"),
    ("privacy_requests", "privacy_requests"),
    ("notices", "notifications"),
    ("restrictions", "restriction"),
    ("holds", "holds"),
    ("art14_status", "art14"),
    ("information_notices", "information_notices"),
    ("access_responses", "access_responses"),
];

#[actix_web::test]
async fn the_export_represents_every_table_that_holds_a_subject_id() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, mari()).await);
    patch(
        &app,
        &id,
        Some("\"1\""),
        json!({"reason": "new address", "email": "mari@uus.ee"}),
    )
    .await
    .assert_status(200);
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{id}/consents/marketing_partners"),
        &staff(),
        Some(json!({"status": "granted", "method": "web_form", "evidence": "form 17"})),
    )
    .await
    .assert_status(200);
    let recipient = app
        .post(
            "/v1/recipients",
            json!({"name": "Vallavalitsus", "category": "local_government", "contact_email": "info@vald.ee"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/v1/subjects/{id}/disclosure-authorizations"),
        json!({"recipient_id": recipient, "legal_basis": "legal_obligation",
               "legal_reference": "Planeerimisseadus § 81", "data_categories": ["identity", "address"],
               "purpose": "detailed plan proceedings"}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/v1/subjects/{id}/disclosures"),
        json!({"recipient_id": recipient, "data_categories": ["identity"], "channel": "email"}),
    )
    .await
    .assert_status(201);
    // A withdrawal after the disclosure: the recipient gets a notice.
    app.call(
        Method::PUT,
        &format!("/v1/subjects/{id}/consents/marketing_partners"),
        &staff(),
        Some(json!({"status": "withdrawn", "method": "email"})),
    )
    .await
    .assert_status(200);

    let request = app
        .post(
            "/v1/privacy-requests",
            json!({"kind": "access", "subject_id": id, "channel": "email",
                   "received_at": "2026-11-30T10:00:00Z"}),
        )
        .await;
    request.assert_status(201);
    let request = request.json()["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/privacy-requests/{request}/access-response"),
        json!({}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/v1/subjects/{id}/restriction"),
        json!({"ground": "legal_claims", "reason": "the person needs it for a claim"}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/v1/subjects/{id}/holds"),
        json!({"ground": "legal_claims", "legal_reference": "case 2-26-17",
               "review_on": "2099-01-01"}),
    )
    .await
    .assert_status(201);

    app.post(
        &format!("/v1/subjects/{id}/information-notices"),
        json!({"informed_at": "2026-11-02T10:00:00Z", "method": "email",
               "notice_version": "privacy notice 2026-10"}),
    )
    .await
    .assert_status(201);

    let tables = app.db.scalar(
        "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name = 'subject_id'",
    );
    // The subject's wrapped data key is key material, not data about the person; so is the
    // SHA-256 of a double opt-in's one-time token (the export's flags show its lapse time), and
    // that of an access response's download link.
    // A breach's affected ids are the breach register's, kept even after an erasure.
    let mut holding: Vec<&str> = tables
        .split(',')
        .filter(|t| {
            ![
                "subject_keys",
                "consent_confirmations",
                "download_links",
                "breach_subjects",
            ]
            .contains(t)
        })
        .collect();
    holding.push("subjects");
    for table in holding.iter().filter(|t| !NEVER_EXPORTED.contains(t)) {
        assert!(
            EXPORTED_TABLES.iter().any(|(t, _)| t == table),
            "table {table} holds subject ids but the export does not cover it"
        );
    }

    let export = app.get(&format!("/v1/subjects/{id}/export")).await;
    export.assert_status(200);
    let export = export.json();
    for (table, key) in EXPORTED_TABLES {
        let column = if table == "subjects" {
            "id"
        } else {
            "subject_id"
        };
        let mut stored = app
            .db
            .count(&format!("SELECT 1 FROM {table} WHERE {column} = '{id}'"));
        if table == "access_log" {
            // The export's own entry is written after the document was gathered.
            stored -= 1;
        }
        assert!(stored > 0, "the fixture left {table} empty");
        let exported = match &export[key] {
            Value::Array(items) if key == "consents" => {
                items.iter().filter(|c| c["status"] != "unset").count() as i64
            }
            Value::Array(items) => items.len() as i64,
            Value::Object(_) => 1,
            other => panic!("{key} is {other}"),
        };
        assert_eq!(exported, stored, "{key} does not hold every row of {table}");
    }
}
