//! Problems in plain words: every 400 says what was expected in the contract's terms, never in
//! Rust's or serde's, never repeats a personal value, and a refused token names its bad claim.

use crate::harness::{Resp, TestApp, SECRET};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

/// Words of Rust, serde and the uuid crate that a caller should never read.
const RUST_WORDS: [&str; 12] = [
    "invalid type",
    "unknown variant",
    "expected one of `",
    "UUID parsing failed",
    "invalid length",
    "struct ",
    "serde",
    "Serde",
    "u32",
    "i64",
    "a sequence",
    "at line",
];

#[track_caller]
fn assert_plain(res: &Resp, field: &str, expect: &str, personal: &[&str]) {
    let body = res.assert_problem(400, "validation-failed");
    let text = body.to_string();
    let message = body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == field))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("{field} not named: {text}"))
        .to_owned();
    assert!(
        message.contains(expect),
        "{field}: `{message}` does not say {expect}"
    );
    for word in RUST_WORDS {
        assert!(!text.contains(word), "`{word}` in {text}");
    }
    for value in personal {
        assert!(
            !text.contains(value),
            "the value {value} was echoed: {text}"
        );
    }
}

fn subject(overrides: Value) -> Value {
    let mut body = json!({
        "kind": "client",
        "given_name": "Mari",
        "family_name": "Maasikas",
        "source": {"type": "data_subject"}
    });
    for (k, v) in overrides.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[actix_web::test]
async fn a_wrongly_typed_field_says_the_json_type_and_does_not_echo_it() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/subjects",
            subject(json!({"personal_code": 49403136526_u64})),
        )
        .await;
    assert_plain(&res, "personal_code", "must be a string", &["49403136526"]);
    let res = app
        .post(
            "/v1/subjects",
            subject(json!({"given_name": ["Mari"], "address": "Pikk 1"})),
        )
        .await;
    assert_plain(&res, "given_name", "must be a string", &["Pikk 1"]);
    assert_plain(&res, "address", "must be an object", &["Pikk 1"]);
    assert_eq!(app.db.count("SELECT 1 FROM subjects"), 0);
}

#[actix_web::test]
async fn an_unknown_enum_value_lists_the_accepted_ones() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/v1/subjects", subject(json!({"kind": "customer"})))
        .await;
    assert_plain(&res, "kind", "client", &[]);
    let created = app.post("/v1/subjects", subject(json!({}))).await;
    created.assert_status(201);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .call(
            Method::PUT,
            &format!("/v1/subjects/{id}/consents/marketing_planpro"),
            &crate::harness::staff(),
            Some(json!({"status": "granted", "method": "web", "evidence": "form 7"})),
        )
        .await;
    assert_plain(&res, "method", "web_form", &[]);
    let res = app
        .post(
            "/v1/recipients",
            json!({"name": "Partner OÜ", "category": "bank", "contact_email": "dpo@partner.ee"}),
        )
        .await;
    assert_plain(&res, "category", "platform_service_provider", &[]);
}

#[actix_web::test]
async fn a_bad_uuid_or_timestamp_shows_the_accepted_form() {
    let app = TestApp::spawn().await;
    let res = app.get("/v1/subjects/abc").await;
    assert_plain(&res, "id", "must be a UUID, such as", &[]);
    let res = app
        .post(
            "/v1/consents/eligibility",
            json!({"purpose": "marketing_planpro", "subject_ids": ["abc", 7]}),
        )
        .await;
    let text = res.json().to_string();
    assert!(res.status == 400 && text.contains("subject_ids"), "{text}");
    for word in RUST_WORDS {
        assert!(!text.contains(word), "`{word}` in {text}");
    }
    let third_party = json!({"source": {
        "type": "third_party", "name": "Partner OÜ", "reference": "contract 2026-17",
        "collected_at": "yesterday", "lawful_collection_attestation": "signed statement 2026-17-A"
    }});
    let res = app.post("/v1/subjects", subject(third_party)).await;
    let body = res.assert_problem(400, "validation-failed").to_string();
    assert!(
        body.contains("source") && body.contains("2026-11-01T10:00:00Z"),
        "{body}"
    );
}

#[actix_web::test]
async fn broken_json_says_where() {
    let app = TestApp::spawn().await;
    let res = app
        .send(
            TestRequest::post()
                .uri("/v1/subjects")
                .insert_header((
                    "Authorization",
                    format!("Bearer {}", app.token(&crate::harness::staff())),
                ))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(r#"{"kind": "client", "given_name": "Mari" "#),
        )
        .await;
    let body = res.assert_problem(400, "validation-failed");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("not valid JSON") && message.contains("column"),
        "{body}"
    );
}

fn token(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[actix_web::test]
async fn a_malformed_token_names_the_claim_at_fault() {
    let app = TestApp::spawn().await;
    let exp = chrono::Utc::now().timestamp() + 600;
    let cases = [
        (json!({"sub": "alice", "exp": "tomorrow"}), "`exp`"),
        (json!({"sub": 49403136526_u64, "exp": exp}), "`sub`"),
        (
            json!({"sub": "alice", "exp": exp, "scope": ["subjects:read"]}),
            "`scope`",
        ),
        (json!({"sub": "alice", "exp": exp, "nbf": "now"}), "`nbf`"),
        (json!({"sub": "alice"}), "`exp`"),
        (json!({"sub": "alice", "exp": exp - 3600}), "`exp`"),
    ];
    for (claims, named) in cases {
        let res = app
            .send(
                TestRequest::get()
                    .uri("/v1/access-logs")
                    .insert_header(("Authorization", format!("Bearer {}", token(claims.clone())))),
            )
            .await;
        let body = res.assert_problem(401, "unauthorized");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(named), "{claims}: {detail}");
        assert!(
            !detail.contains("49403136526") && !detail.contains("tomorrow"),
            "{detail}"
        );
    }
    let res = app
        .send(
            TestRequest::get()
                .uri("/v1/access-logs")
                .insert_header(("Authorization", "Bearer not-a-jwt")),
        )
        .await;
    let detail = res.assert_problem(401, "unauthorized")["detail"].to_string();
    assert!(detail.contains("three base64url parts"), "{detail}");
}
