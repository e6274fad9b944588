//! The contract's robustness rules, in-process: no hidden text, strict JSON, spreadsheet-safe CSV
//! and problems for malformed requests.

use crate::harness::{staff, token_for, TestApp};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::auth::Scope;
use serde_json::{json, Value};

const HIDDEN: [char; 8] = [
    '\u{202E}',
    '\u{061C}',
    '\u{200B}',
    '\u{2028}',
    '\u{2063}',
    '\u{2067}',
    '\u{FEFF}',
    '\u{E0041}',
];

async fn new_subject(app: &TestApp) -> String {
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

async fn new_recipient(app: &TestApp) -> String {
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "platform_service_provider",
                   "contact_email": "dpo@partner.ee"}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_str().unwrap().to_owned()
}

async fn send_json(app: &TestApp, method: Method, path: &str, body: &str) -> crate::harness::Resp {
    app.send(
        TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header((
                "Authorization",
                format!("Bearer {}", token_for("tester", &staff(), None)),
            ))
            .insert_header(("If-Match", "\"1\""))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_owned()),
    )
    .await
}

#[actix_web::test]
async fn hidden_characters_are_refused_in_every_free_text_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let subject = new_subject(&app).await;
    let recipient = new_recipient(&app).await;
    for c in HIDDEN {
        let t = format!("Mari{c}Maasikas");
        let cases: Vec<(Method, String, Value, &str)> = vec![
            (Method::POST, "/v1/subjects".into(),
             json!({"kind": "client", "given_name": t, "family_name": "M",
                    "address": {"street": t}, "source": {"type": "third_party", "name": t,
                    "reference": t, "lawful_collection_attestation": t}}),
             "address.street,given_name,source.lawful_collection_attestation,source.name,source.reference"),
            (Method::PATCH, format!("/v1/subjects/{subject}"),
             json!({"reason": t, "family_name": t}), "family_name,reason"),
            (Method::PUT, format!("/v1/subjects/{subject}/consents/marketing_partners"),
             json!({"status": "granted", "method": "web_form", "evidence": t}), "evidence"),
            (Method::POST, "/v1/purposes".into(),
             json!({"id": "newsletter", "basis": "opt_in", "description": {"et": t, "en": t}}),
             "description.en,description.et"),
            (Method::POST, "/v1/recipients".into(),
             json!({"name": t, "category": "platform_service_provider",
                    "contact_email": "dpo@partner.ee"}), "name"),
            (Method::POST, format!("/v1/subjects/{subject}/disclosure-authorizations"),
             json!({"recipient_id": recipient, "legal_basis": "consent", "consent_evidence": t,
                    "data_categories": ["identity"], "purpose": t}), "consent_evidence,purpose"),
            (Method::POST, format!("/v1/subjects/{subject}/disclosures"),
             json!({"recipient_id": recipient, "data_categories": ["identity"],
                    "channel": "email", "note": t}), "note"),
        ];
        for (method, path, body, fields) in cases {
            let res = send_json(&app, method.clone(), &path, &body.to_string()).await;
            res.assert_problem(400, "validation-failed");
            assert_eq!(res.bad_fields().join(","), fields, "{method} {path} {c:?}");
        }
    }
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 1);
    assert_eq!(app.db.count("SELECT 1 FROM consent_events"), 0);
    assert_eq!(
        app.db
            .count("SELECT 1 FROM purposes WHERE id = 'newsletter'"),
        0
    );
    assert_eq!(app.db.count("SELECT 1 FROM recipients"), 1);
    assert_eq!(app.db.count("SELECT 1 FROM disclosure_authorizations"), 0);
}

#[actix_web::test]
async fn hidden_characters_in_the_purpose_header_are_a_400_and_in_sub_a_401() {
    let app = TestApp::spawn().await;
    let subject = new_subject(&app).await;
    for c in HIDDEN {
        let res = app
            .send(
                TestRequest::get()
                    .uri(&format!("/v1/subjects/{subject}"))
                    .insert_header((
                        "Authorization",
                        format!("Bearer {}", app.token(&[Scope::SubjectsRead])),
                    ))
                    .insert_header(("X-Access-Purpose", format!("support{c}ticket"))),
            )
            .await;
        res.assert_problem(400, "validation-failed");
        assert_eq!(res.bad_fields(), ["X-Access-Purpose"]);
        let token = token_for(&format!("admin{c}"), &[Scope::SubjectsRead], None);
        let res = app
            .send(
                TestRequest::get()
                    .uri(&format!("/v1/subjects/{subject}"))
                    .insert_header(("Authorization", format!("Bearer {token}"))),
            )
            .await;
        res.assert_invalid_token();
    }
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE action = 'subject.read'"),
        0
    );
}

#[actix_web::test]
async fn a_repeated_member_name_is_a_400_naming_it_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let subject = new_subject(&app).await;
    let put = format!("/v1/subjects/{subject}/consents/marketing_partners");
    let res = send_json(
        &app,
        Method::PUT,
        &put,
        r#"{"status":"granted","method":"web_form","status":"withdrawn"}"#,
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["status"]);
    let res = send_json(
        &app,
        Method::POST,
        "/v1/subjects",
        r#"{"kind":"client","given_name":"A","family_name":"B","source":{"type":"data_subject","type":"public_registry"},"kind":"contact"}"#,
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["kind", "source.type"]);
    let res = send_json(
        &app,
        Method::POST,
        "/v1/consents/eligibility",
        &format!(r#"{{"purpose":"marketing_planpro","subject_ids":["{subject}"],"purpose":"x"}}"#),
    )
    .await;
    res.assert_problem(400, "validation-failed");
    assert_eq!(res.bad_fields(), ["purpose"]);
    assert_eq!(app.db.count("SELECT 1 FROM consent_events"), 0);
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 1);
}

#[actix_web::test]
async fn csv_cells_that_a_spreadsheet_would_run_are_prefixed() {
    let app = TestApp::spawn().await;
    let subject = new_subject(&app).await;
    for (sub, purpose) in [
        ("=1+1", "=HYPERLINK(\"http://evil\",\"x\")"),
        ("+cmd", "@SUM(A1)"),
        ("-2", "plain purpose"),
    ] {
        let token = token_for(sub, &[Scope::SubjectsRead], None);
        app.send(
            TestRequest::get()
                .uri(&format!("/v1/subjects/{subject}"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("X-Access-Purpose", purpose)),
        )
        .await
        .assert_status(200);
    }
    let res = app
        .send(
            TestRequest::get()
                .uri(&format!("/v1/access-logs?subject_id={subject}"))
                .insert_header((
                    "Authorization",
                    format!("Bearer {}", app.token(&[Scope::AccessLogsRead])),
                ))
                .insert_header(("Accept", "text/csv")),
        )
        .await;
    res.assert_status(200);
    let text = String::from_utf8(res.body.clone()).unwrap();
    for cell in [
        ",'=1+1,",
        r#","'=HYPERLINK(""http://evil"",""x"")","#,
        ",'+cmd,",
        ",'@SUM(A1),",
        ",'-2,",
        ",plain purpose,",
    ] {
        assert!(text.contains(cell), "{cell} missing from\n{text}");
    }
    for line in text.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t']), "{line}");
        }
    }
}

#[actix_web::test]
async fn a_very_long_url_is_a_414_problem() {
    let app = TestApp::spawn().await;
    let res = app
        .get(&format!("/v1/subjects?email={}", "a".repeat(60 * 1024)))
        .await;
    res.assert_problem(414, "uri-too-long");
}

/// A client timestamp before 1900-01-01 (year 0, year -1) is a 400 naming the field, top-level
/// or nested, and nothing is stored.
#[actix_web::test]
async fn client_timestamps_before_1900_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    for at in [
        "0000-01-01T00:00:00Z",
        "-0001-06-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
    ] {
        let res = app
            .post(
                "/v1/privacy-requests",
                json!({"kind": "access", "subject_id": null, "channel": "email",
                       "received_at": at}),
            )
            .await;
        res.assert_status(400);
        assert_eq!(res.bad_fields(), ["received_at"], "{at}");
        let res = app
            .post(
                "/v1/subjects",
                json!({"kind": "client", "given_name": "Mari", "family_name": "Maasikas",
                       "last_activity_at": at,
                       "source": {"type": "third_party", "name": "Partner OÜ",
                                  "collected_at": at, "lawful_collection_attestation": "a"}}),
            )
            .await;
        res.assert_status(400);
        assert_eq!(
            res.bad_fields(),
            ["last_activity_at", "source.collected_at"],
            "{at}"
        );
    }
    assert_eq!(app.db.count("SELECT 1 FROM privacy_requests"), 0);
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 0);
    app.post(
        "/v1/privacy-requests",
        json!({"kind": "access", "subject_id": null, "channel": "email",
               "received_at": "1900-01-01T00:00:00Z"}),
    )
    .await
    .assert_status(201);
}
