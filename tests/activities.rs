//! Records of processing (Art. 30): activities with versions and If-Match, retirement instead of
//! deletion, the signed register as of a date, and the conformance report.

use crate::harness::{staff, Resp, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use uuid::Uuid;

pub fn activity_body() -> Value {
    json!({
        "name": {"et": "Pakkumised partneritelt", "en": "Offers from partners"},
        "purposes": ["marketing_partners"],
        "purpose_description": {"et": "Partnerite pakkumised", "en": "Offers of partners"},
        "legal_basis": {"article": "6(1)(a)", "reference": "consent form v3"},
        "subject_kinds": ["client"],
        "data_categories": ["contact"],
        "recipient_categories": ["platform_service_provider"],
        "transfers": [],
        "retention": {"criterion": {"et": "kuni tagasivõtmiseni", "en": "until withdrawn"}},
        "security_measures": ["encryption at rest"],
        "owner": "marketing lead"
    })
}

pub async fn create_activity(app: &TestApp, body: Value) -> Value {
    let res = app.post("/v1/processing-activities", body).await;
    res.assert_status(201);
    res.json()
}

async fn patch(app: &TestApp, id: &str, body: Value, if_match: Option<&str>) -> Resp {
    let mut req = TestRequest::patch()
        .uri(&format!("/v1/processing-activities/{id}"))
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
        .set_json(body);
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    app.send(req).await
}

fn entries(app: &TestApp, action: &str) -> i64 {
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = '{action}'"
    ))
}

#[actix_web::test]
async fn an_activity_is_versioned_changed_with_if_match_and_retired_never_deleted() {
    let app = TestApp::spawn().await;
    let res = app.post("/v1/processing-activities", activity_body()).await;
    res.assert_status(201);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    let created = res.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/processing-activities/{id}"))
    );
    assert_eq!(created["status"], "active");
    assert_eq!(
        created["controller"]["name"], "PlanPro Test OÜ",
        "{created}"
    );
    assert_eq!(created["controller"]["registry_code"], "12345678");
    assert_eq!(entries(&app, "ropa.update"), 1);

    patch(&app, &id, json!({"owner": "dpo"}), None)
        .await
        .assert_problem(428, "precondition-required");
    patch(&app, &id, json!({"owner": "dpo"}), Some("\"7\""))
        .await
        .assert_problem(412, "precondition-failed");
    let changed = patch(&app, &id, json!({"owner": "dpo"}), Some("\"1\"")).await;
    changed.assert_status(200);
    assert_eq!(changed.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(changed.json()["owner"], "dpo");
    let retired = patch(&app, &id, json!({"status": "retired"}), Some("\"2\"")).await;
    retired.assert_status(200);
    assert_eq!(retired.json()["status"], "retired");
    assert_eq!(entries(&app, "ropa.update"), 3);

    let versions = app
        .get(&format!("/v1/processing-activities/{id}/versions"))
        .await
        .json();
    let items = versions["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["activity"]["owner"], "marketing lead");
    assert_eq!(items[1]["activity"]["owner"], "dpo");
    assert_eq!(items[2]["activity"]["status"], "retired");
    assert_eq!(items[2]["changed_by"], "tester");

    let retired_list = app
        .get("/v1/processing-activities?status=retired")
        .await
        .json();
    assert_eq!(retired_list["items"].as_array().unwrap().len(), 1);
    app.call(
        Method::DELETE,
        &format!("/v1/processing-activities/{id}"),
        &staff(),
        None,
    )
    .await
    .assert_status(405);
    let res = app
        .get(&format!("/v1/processing-activities/{}", Uuid::now_v7()))
        .await;
    res.assert_problem(404, "not-found");
    assert_eq!(app.db.count("SELECT 1 FROM processing_activities"), 1);
}

#[actix_web::test]
async fn unknown_purposes_rules_and_bad_fields_are_named_and_change_nothing() {
    let app = TestApp::spawn().await;
    let mut body = activity_body();
    body["purposes"] = json!(["marketing_partners", "no_such_purpose"]);
    body["retention"] = json!({"rule_id": Uuid::now_v7()});
    let res = app.post("/v1/processing-activities", body).await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["purposes[1]", "retention.rule_id"]);
    let mut body = activity_body();
    body["subject_kinds"] = json!([]);
    body["transfers"] = json!([{"country": "DE", "safeguard": "sccs", "reference": "x"}]);
    body["name"]["en"] = json!("Offers\u{202E}");
    body["legal_basis"] = json!({"article": "6(1)(g)", "reference": "x"});
    let res = app.post("/v1/processing-activities", body).await;
    res.assert_status(400);
    let fields = res.bad_fields();
    for field in [
        "subject_kinds",
        "transfers[0].country",
        "name.en",
        "legal_basis",
    ] {
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{field} in {fields:?}"
        );
    }
    assert_eq!(app.db.count("SELECT 1 FROM processing_activities"), 0);
    assert_eq!(entries(&app, "ropa.update"), 0);
    let created = create_activity(&app, activity_body()).await;
    let id = created["id"].as_str().unwrap();
    let res = patch(&app, id, json!({"purposes": ["nope"]}), Some("\"1\"")).await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["purposes[0]"]);
    let res = patch(&app, id, json!({"colour": "red"}), Some("\"1\"")).await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["colour"]);
    assert_eq!(
        app.db.count("SELECT 1 FROM processing_activity_versions"),
        1
    );
}

#[actix_web::test]
async fn the_register_as_of_a_date_is_signed_over_its_exact_bytes() {
    let app = TestApp::spawn().await;
    let created = create_activity(&app, activity_body()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    // An activity recorded long ago, changed since: the register of an old date shows it as it
    // then stood.
    let old = Uuid::now_v7();
    app.db.exec(&format!(
        "INSERT INTO processing_activities VALUES ('{old}', 2, 'active', '{{}}', 't', \
         '2025-01-01T10:00:00Z', '2025-06-01T10:00:00Z');
         INSERT INTO processing_activity_versions
         SELECT '{old}', 1, 'active', doc || '{{\"owner\": \"first owner\"}}', '2025-01-01T10:00:00Z', 't'
         FROM processing_activities WHERE id = '{id}';
         INSERT INTO processing_activity_versions
         SELECT '{old}', 2, 'active', doc || '{{\"owner\": \"second owner\"}}', '2025-06-01T10:00:00Z', 't'
         FROM processing_activities WHERE id = '{id}';"
    ));
    let res = app.get("/v1/ropa?as_of=2025-03-01").await;
    res.assert_status(200);
    let header = crate::jws::verify_detached(
        &res.header("x-signature-jws").unwrap(),
        &res.body,
        &crate::jws::jwks(&app).await,
    );
    assert_eq!(header["typ"], "ropa+jws");
    assert_eq!(header["alg"], "EdDSA");
    let register = res.json();
    assert_eq!(register["as_of"], "2025-03-01");
    assert_eq!(register["controller"]["name"], "PlanPro Test OÜ");
    let activities = register["activities"].as_array().unwrap();
    assert_eq!(activities.len(), 1, "{register}");
    assert_eq!(activities[0]["owner"], "first owner");
    assert_eq!(activities[0]["id"], old.to_string());

    let today = app.get("/v1/ropa").await.json();
    assert_eq!(today["activities"].as_array().unwrap().len(), 2);
    let csv = app.get("/v1/ropa?format=csv").await;
    csv.assert_status(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    crate::jws::verify_detached(
        &csv.header("x-signature-jws").unwrap(),
        &csv.body,
        &crate::jws::jwks(&app).await,
    );
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("second owner") && text.contains("marketing lead"));

    patch(&app, &id, json!({"status": "retired"}), Some("\"1\""))
        .await
        .assert_status(200);
    let today = app.get("/v1/ropa").await.json();
    assert_eq!(today["activities"].as_array().unwrap().len(), 1);
    let res = app.get("/v1/ropa?as_of=2999-01-01&format=xml").await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["as_of", "format"]);
    app.call(Method::GET, "/v1/ropa", &[Scope::SubjectsRead], None)
        .await
        .assert_status(403);
}

async fn read_with_purpose(app: &TestApp, subject: &str, purpose: Option<&str>) -> Resp {
    let mut req = TestRequest::get()
        .uri(&format!("/v1/subjects/{subject}"))
        .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))));
    if let Some(p) = purpose {
        req = req.insert_header(("X-Access-Purpose", p));
    }
    app.send(req).await
}

#[actix_web::test]
async fn conformance_names_undeclared_disclosures_unbound_reads_and_incomplete_activities() {
    let app = TestApp::spawn().await;
    let mut body = activity_body();
    body["legal_basis"] = Value::Null;
    let activity = create_activity(&app, body).await;
    let activity_id = activity["id"].as_str().unwrap();
    let subject = app
        .post(
            "/v1/subjects",
            json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                   "source": {"type": "data_subject"}}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let recipient = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "privacy@partner.ee"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let authority = app
        .post(
            "/v1/recipients",
            json!({"name": "Amet", "category": "public_authority",
                   "contact_email": "info@amet.ee"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for r in [&recipient, &authority] {
        app.post(
            &format!("/v1/subjects/{subject}/disclosure-authorizations"),
            json!({"recipient_id": r, "legal_basis": "consent", "consent_evidence": "form",
                   "data_categories": ["identity", "contact"], "purpose": "offers"}),
        )
        .await
        .assert_status(201);
        app.post(
            &format!("/v1/subjects/{subject}/disclosures"),
            json!({"recipient_id": r, "data_categories": ["identity", "contact"],
                   "channel": "email"}),
        )
        .await
        .assert_status(201);
    }
    read_with_purpose(&app, &subject, None)
        .await
        .assert_status(200);
    read_with_purpose(&app, &subject, Some("checking the address"))
        .await
        .assert_status(200);
    read_with_purpose(&app, &subject, Some(&format!("activity:{activity_id}")))
        .await
        .assert_status(200);
    let today = planpro_privacy::domain::deadline::tallinn_date(chrono::Utc::now());
    let from = today - chrono::Duration::days(29);
    let before = entries(&app, "access_log.read");
    let res = app
        .get(&format!("/v1/ropa/conformance?from={from}&to={today}"))
        .await;
    res.assert_status(200);
    let report = res.json();
    let undeclared = report["undeclared_disclosures"].as_array().unwrap();
    let pairs: Vec<(String, String, i64)> = undeclared
        .iter()
        .map(|d| {
            (
                d["recipient_category"].as_str().unwrap().to_owned(),
                d["data_category"].as_str().unwrap().to_owned(),
                d["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("platform_service_provider".into(), "identity".into(), 1),
            ("public_authority".into(), "contact".into(), 1),
            ("public_authority".into(), "identity".into(), 1),
        ],
        "{report}"
    );
    let recipients = report["undeclared_recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 1, "{report}");
    assert_eq!(recipients[0]["recipient_id"], authority);
    assert_eq!(recipients[0]["name"], "Amet");
    assert_eq!(
        report["unbound_reads"]["by_action"]["subject.read"], 2,
        "{report}"
    );
    assert_eq!(
        report["incomplete_activities"],
        json!([{"id": activity_id, "missing": ["legal_basis"]}])
    );
    assert_eq!(entries(&app, "access_log.read"), before + 1);

    let res = app
        .get("/v1/ropa/conformance?from=2026-01-01&to=2027-03-01")
        .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["to"]);
    let res = app.get("/v1/ropa/conformance").await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["from", "to"]);
}

async fn app_with(mode: planpro_privacy::config::PurposeEnforcement) -> TestApp {
    use planpro_privacy::config::{JwtKey, Secret};
    let db = crate::harness::TestDb::new();
    let mut config = crate::harness::test_config(&db.url);
    config.registers.purpose_enforcement = mode;
    TestApp::on(
        db,
        &config,
        &JwtKey::Secret(Secret::new(crate::harness::SECRET)),
    )
    .await
}

async fn a_subject(app: &TestApp) -> String {
    let res = app
        .post(
            "/v1/subjects",
            json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                   "source": {"type": "data_subject"}}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn strict_purpose_binding_refuses_unbound_staff_reads_and_logs_them_denied() {
    use planpro_privacy::config::PurposeEnforcement;
    let app = app_with(PurposeEnforcement::Strict).await;
    let subject = a_subject(&app).await;
    let active = create_activity(&app, activity_body()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let retired = create_activity(&app, activity_body()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    patch(&app, &retired, json!({"status": "retired"}), Some("\"1\""))
        .await
        .assert_status(200);

    for purpose in [
        None,
        Some("checking the address".to_owned()),
        Some(format!("activity:{retired}")),
    ] {
        read_with_purpose(&app, &subject, purpose.as_deref())
            .await
            .assert_problem(403, "activity-required");
    }
    assert_eq!(
        app.db.count(&format!(
            "SELECT 1 FROM access_log WHERE action = 'subject.read' AND outcome = 'denied' \
             AND subject_id = '{subject}'"
        )),
        3
    );
    let res = read_with_purpose(&app, &subject, Some(&format!("activity:{active}"))).await;
    res.assert_status(200);
    assert_eq!(res.json()["given_name"], "Mari");
    let upper = format!("ACTIVITY:{}", active.to_uppercase());
    read_with_purpose(&app, &subject, Some(&upper))
        .await
        .assert_status(200);

    // Naming no activity is bad input, for reads and changes alike, and changes nothing.
    let res = read_with_purpose(
        &app,
        &subject,
        Some(&format!("activity:{}", Uuid::now_v7())),
    )
    .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["X-Access-Purpose"]);
    read_with_purpose(&app, &subject, Some("activity:not-a-uuid"))
        .await
        .assert_status(400);
    let before = app.db.count("SELECT 1 FROM subjects");
    let res = app
        .send(
            TestRequest::post()
                .uri("/v1/subjects")
                .insert_header(("Authorization", format!("Bearer {}", app.token(&staff()))))
                .insert_header(("X-Access-Purpose", format!("activity:{}", Uuid::now_v7())))
                .set_json(
                    json!({"kind": "client", "given_name": "A", "family_name": "B",
                                 "source": {"type": "data_subject"}}),
                ),
        )
        .await;
    res.assert_status(400);
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), before);
    // Changes need no activity.
    app.post(
        "/v1/subjects",
        json!({"kind": "client", "given_name": "A", "family_name": "B",
               "source": {"type": "data_subject"}}),
    )
    .await
    .assert_status(201);
}

#[actix_web::test]
async fn warn_serves_unbound_reads_and_counts_them_off_leaves_purposes_free_text() {
    use planpro_privacy::config::PurposeEnforcement;
    let unbound = |metrics: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with("purpose_unbound_reads_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let app = app_with(PurposeEnforcement::Warn).await;
    let subject = a_subject(&app).await;
    let metrics = || async {
        String::from_utf8(app.send(TestRequest::get().uri("/metrics")).await.body).unwrap()
    };
    let before = unbound(&metrics().await);
    read_with_purpose(&app, &subject, None)
        .await
        .assert_status(200);
    assert!(unbound(&metrics().await) >= before + 1.0);
    let res = read_with_purpose(
        &app,
        &subject,
        Some(&format!("activity:{}", Uuid::now_v7())),
    )
    .await;
    res.assert_status(400);
    assert_eq!(res.bad_fields(), ["X-Access-Purpose"]);
    drop(app);

    let app = app_with(PurposeEnforcement::Off).await;
    let subject = a_subject(&app).await;
    read_with_purpose(
        &app,
        &subject,
        Some(&format!("activity:{}", Uuid::now_v7())),
    )
    .await
    .assert_status(200);
}
