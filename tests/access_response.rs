//! The access response (contract v3, section B): every key, the recipients by name from the
//! ledger, the person's own keep date, the summary without staff identities, three languages,
//! the printable page, bad parameters, and the standing rule (404, 410).

use crate::harness::{token_for, Resp, TestApp, CONTROLLER_NAME};
use actix_web::test::TestRequest;
use chrono::Datelike;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};
use uuid::Uuid;

const KEYS: [&str; 14] = [
    "access_log_summary",
    "automated_decision_making",
    "complaint",
    "confirmation",
    "generated_at",
    "lang",
    "personal_data",
    "purposes",
    "recipient_categories",
    "recipients",
    "retention",
    "rights",
    "source",
    "third_country_transfers",
];

pub fn person() -> Value {
    json!({
        "kind": "client", "given_name": "Mari", "family_name": "Maasikas",
        "email": "mari@example.ee", "preferred_language": "et",
        "source": {"type": "public_registry", "name": "Äriregister"}
    })
}

pub async fn create(app: &TestApp, body: Value) -> String {
    let res = app.post("/v1/subjects", body).await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().to_owned()
}

pub async fn access(app: &TestApp, id: &str, query: &str) -> Resp {
    app.get(&format!("/v1/subjects/{id}/access-response{query}"))
        .await
}

pub fn entries(app: &TestApp, id: &str, outcome: &str) -> i64 {
    app.db.count(&format!(
        "SELECT 1 FROM access_log WHERE action = 'access_response.read' \
         AND subject_id = '{id}' AND outcome = '{outcome}'"
    ))
}

#[actix_web::test]
async fn every_key_is_present_even_when_there_is_nothing_to_say() {
    let app = TestApp::spawn().await;
    let id = create(&app, person()).await;
    let res = access(&app, &id, "").await;
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/json")
    );
    let doc = res.json();
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut expected: Vec<&str> = KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(doc["lang"], "en");
    assert_eq!(doc["automated_decision_making"], "none");
    assert_eq!(doc["confirmation"]["processing"], true);
    assert_eq!(doc["confirmation"]["subject_id"], id.as_str());
    assert_eq!(
        doc["confirmation"]["controller"],
        json!({"name": CONTROLLER_NAME, "registry_code": "12345678",
               "address": "Pikk 1, 10123 Tallinn", "email": "privacy@planpro.ee"})
    );
    assert_eq!(doc["personal_data"]["subject"]["id"], id.as_str());
    assert_eq!(doc["recipients"], json!([]));
    assert_eq!(doc["third_country_transfers"], json!([]));
    // No activity is registered: v1's recipient categories.
    assert_eq!(doc["recipient_categories"].as_array().unwrap().len(), 4);
    // No retention rule: nulls, and a criterion in words.
    let retention = &doc["retention"];
    assert!(retention["keep_until"].is_null() && retention["due_from"].is_null());
    assert!(retention["rule"].is_null());
    assert!(!retention["criterion"].as_str().unwrap().is_empty());
    assert_eq!(retention["holds"], json!([]));
    assert_eq!(doc["source"]["type"], "public_registry");
    assert_eq!(doc["source"]["name"], "Äriregister");
    assert!(doc["source"].as_object().unwrap().contains_key("art14"));
    assert_eq!(
        doc["complaint"],
        json!({"authority": "Andmekaitse Inspektsioon", "address": "Tatari 39, 10134 Tallinn",
               "email": "kaebused@aki.ee", "url": "https://www.aki.ee"})
    );
    let rights: Vec<&str> = doc["rights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["right"].as_str().unwrap())
        .collect();
    assert_eq!(
        rights,
        [
            "rectification",
            "erasure",
            "restriction",
            "objection",
            "portability",
            "withdraw_consent"
        ]
    );
    assert!(doc["rights"][1]["endpoint"].as_str().unwrap().contains(&id));
    // marketing_planpro is opt-out, so eligible unless refused: a purpose under 6(1)(f).
    let planpro = doc["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "marketing_planpro")
        .expect("the opt-out purpose");
    assert_eq!(planpro["kind"], "consent_purpose");
    assert_eq!(planpro["legal_basis"]["article"], "6(1)(f)");
    // The record's creation is in the summary, by staff, under the controller's name.
    let summary = doc["access_log_summary"].as_array().unwrap();
    let created = summary
        .iter()
        .find(|s| s["action"] == "subject.create")
        .unwrap();
    assert_eq!(created["actor_kind"], "staff");
    assert_eq!(
        created["organisation"],
        json!({"name": CONTROLLER_NAME, "registry_code": "12345678"})
    );
    assert_eq!(created["count"], 1);
    assert_eq!(created["label"], "Your record was created");
    assert_eq!(entries(&app, &id, "allowed"), 1);
}

pub async fn recipient(app: &TestApp, name: &str, code: &str) -> String {
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": name, "registry_code": code, "category": "local_government",
                   "contact_email": "dpo@partner.ee"}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn recipients_are_named_from_the_ledger_and_staff_stay_unnamed() {
    let app = TestApp::spawn().await;
    let id = create(&app, person()).await;
    let to = recipient(&app, "Tartu Linnavalitsus", "75006546").await;
    app.post(
        &format!("/v1/subjects/{id}/disclosure-authorizations"),
        json!({"recipient_id": to, "legal_basis": "legal_obligation",
               "legal_reference": "PlanS § 10", "data_categories": ["identity", "contact"],
               "purpose": "detailed plan"}),
    )
    .await
    .assert_status(201);
    app.post(
        &format!("/v1/subjects/{id}/disclosures"),
        json!({"recipient_id": to, "data_categories": ["identity"], "channel": "email"}),
    )
    .await
    .assert_status(201);
    let partner = token_for(
        "partner-x",
        &[Scope::Partner],
        Some(Uuid::parse_str(&to).unwrap()),
    );
    app.send(
        TestRequest::get()
            .uri(&format!("/v1/partner/subjects/{id}"))
            .insert_header(("Authorization", format!("Bearer {partner}"))),
    )
    .await
    .assert_status(200);
    app.post(
        "/v1/retention/rules",
        json!({"subject_kind": "client", "keep_months": 12, "legal_basis": "PlanS § 12"}),
    )
    .await
    .assert_status(201);
    let doc = access(&app, &id, "?lang=ru").await;
    doc.assert_status(200);
    let text = String::from_utf8(doc.body.clone()).unwrap();
    let doc = doc.json();
    let recipients = doc["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 1, "{recipients:?}");
    let r = &recipients[0];
    assert_eq!(r["recipient_id"], to.as_str());
    assert_eq!(r["name"], "Tartu Linnavalitsus");
    assert_eq!(r["registry_code"], "75006546");
    assert_eq!(r["category"], "local_government");
    assert_eq!(r["count"], 2);
    assert_eq!(r["data_categories"], json!(["contact", "identity"]));
    assert!(r["first_disclosed_at"].as_str() <= r["last_disclosed_at"].as_str());
    assert_eq!(r["notices"], json!([]));
    // The keep date: the Tallinn date of the last activity (the staff record) + 12 months.
    let last = doc["personal_data"]["subject"]["last_activity_at"]
        .as_str()
        .unwrap();
    let last = chrono::DateTime::parse_from_rfc3339(last)
        .unwrap()
        .with_timezone(&chrono_tz::Europe::Tallinn)
        .date_naive();
    let keep = last.with_year(last.year() + 1).unwrap_or(last);
    assert_eq!(doc["retention"]["keep_until"], keep.to_string());
    assert_eq!(
        doc["retention"]["due_from"],
        keep.succ_opt().unwrap().to_string()
    );
    assert_eq!(
        doc["retention"]["rule"],
        json!({"subject_kind": "client", "keep_months": 12, "legal_basis": "PlanS § 12"})
    );
    // The partner's read is summed under the recipient; staff under the controller; no actor's
    // identity appears anywhere in the summary.
    let summary = doc["access_log_summary"].as_array().unwrap();
    let read = summary
        .iter()
        .find(|s| s["action"] == "partner.read")
        .unwrap();
    assert_eq!(read["actor_kind"], "recipient");
    assert_eq!(
        read["organisation"],
        json!({"name": "Tartu Linnavalitsus", "registry_code": "75006546"})
    );
    assert_eq!(read["label"], "Данные переданы партнёру");
    let record = summary
        .iter()
        .find(|s| s["action"] == "disclosure.record")
        .unwrap();
    assert_eq!(record["actor_kind"], "staff");
    assert_eq!(record["organisation"]["name"], "Tartu Linnavalitsus");
    let summary_text = serde_json::to_string(summary).unwrap();
    assert!(
        !summary_text.contains("tester") && !summary_text.contains("partner-x"),
        "{summary_text}"
    );
    assert_eq!(doc["lang"], "ru");
    assert!(
        text.contains("Андмекайтсе")
            || doc["rights"][0]["how"]
                .as_str()
                .unwrap()
                .contains("напишите")
    );
}

#[actix_web::test]
async fn texts_follow_lang_and_activities_fill_purposes_and_transfers() {
    let app = TestApp::spawn().await;
    let id = create(&app, person()).await;
    let mut activity = crate::activities::activity_body();
    activity["transfers"] =
        json!([{"country": "US", "safeguard": "sccs", "reference": "SCC 2021/914"}]);
    activity["data_categories"] = json!(["identity", "contact", "address"]);
    let created = crate::activities::create_activity(&app, activity).await;
    let mut labels = Vec::new();
    for lang in ["et", "en", "ru"] {
        let doc = access(&app, &id, &format!("?lang={lang}")).await;
        doc.assert_status(200);
        let doc = doc.json();
        assert_eq!(doc["lang"], lang);
        let a = doc["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == "activity")
            .expect("the activity");
        assert_eq!(a["id"], created["id"]);
        assert_eq!(
            a["legal_basis"],
            json!({"article": "6(1)(a)", "reference": "consent form v3"})
        );
        // Declared identity, contact and address; the record holds no address.
        assert_eq!(a["categories"], json!(["identity", "contact"]));
        assert_eq!(doc["third_country_transfers"][0]["country"], "US");
        assert_eq!(
            doc["recipient_categories"],
            json!(["platform_service_provider"])
        );
        labels.push(doc["rights"][0]["how"].as_str().unwrap().to_owned());
        if lang == "et" {
            assert_eq!(a["name"], "Pakkumised partneritelt");
        }
    }
    labels.dedup();
    assert_eq!(labels.len(), 3, "{labels:?}");
}

#[actix_web::test]
async fn bad_parameters_are_named_and_nothing_is_logged_as_read() {
    let app = TestApp::spawn().await;
    let id = create(&app, person()).await;
    let res = access(&app, &id, "?lang=fi&format=pdf&colour=red").await;
    res.assert_problem(400, "validation-failed");
    let mut fields = res.bad_fields();
    fields.sort();
    assert_eq!(fields, ["colour", "format", "lang"]);
    assert_eq!(entries(&app, &id, "allowed"), 0);
    let res = app
        .call(
            actix_web::http::Method::GET,
            &format!("/v1/subjects/{id}/access-response"),
            &[Scope::SubjectsWrite],
            None,
        )
        .await;
    res.assert_missing_scope("subjects:read");
    assert_eq!(entries(&app, &id, "denied"), 1);
}

#[actix_web::test]
async fn unknown_is_404_and_erased_is_410() {
    let app = TestApp::spawn().await;
    access(&app, &Uuid::now_v7().to_string(), "")
        .await
        .assert_problem(404, "not-found");
    let id = create(&app, person()).await;
    app.post(
        &format!("/v1/subjects/{id}/erasure"),
        json!({"reason": "asked"}),
    )
    .await
    .assert_status(200);
    access(&app, &id, "")
        .await
        .assert_problem(410, "subject-erased");
    access(&app, &id, "?format=html")
        .await
        .assert_problem(410, "subject-erased");
}
