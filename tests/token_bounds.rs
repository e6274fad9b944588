//! Tokens that are signed right but say what no token should: a critical header extension
//! (RFC 7515 §4.1.11), an `exp` that is no date (2^63) and an `iat` from the future. Each is 401.

use crate::harness::{TestApp, SECRET};
use actix_web::test::TestRequest;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

fn signed(header: &Header, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

async fn status_with(app: &TestApp, token: &str) -> (u16, String) {
    let res = app
        .send(
            TestRequest::get()
                .uri("/v1/access-logs")
                .insert_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;
    (
        res.status.as_u16(),
        String::from_utf8_lossy(&res.body).into_owned(),
    )
}

#[actix_web::test]
async fn crit_headers_endless_exp_and_future_iat_are_401() {
    let app = TestApp::spawn().await;
    let claims = |extra: Value| {
        let mut c = json!({"sub": "alice", "exp": now() + 600, "scope": "access-logs:read"});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let plain = Header::new(Algorithm::HS256);
    let mut crit = Header::new(Algorithm::HS256);
    crit.crit = Some(vec!["x-unknown".into()]);
    crit.extras.insert("x-unknown", "1");
    let refused = [
        ("crit", signed(&crit, &claims(json!({})))),
        (
            "exp",
            signed(
                &plain,
                &claims(json!({"exp": 9_223_372_036_854_775_808_u64})),
            ),
        ),
        (
            "exp",
            signed(&plain, &claims(json!({"exp": 253_402_300_800_u64}))),
        ),
        ("iat", signed(&plain, &claims(json!({"iat": now() + 120})))),
    ];
    for (what, token) in refused {
        let (status, body) = status_with(&app, &token).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(body.contains(what), "{what}: {body}");
    }
    // Within the bounds: an iat a few seconds ahead (clock skew), a long but real exp.
    for extra in [
        json!({"iat": now() + 30}),
        json!({"exp": 253_402_300_799_u64}),
    ] {
        let (status, body) = status_with(&app, &signed(&plain, &claims(extra))).await;
        assert_eq!(status, 200, "{body}");
    }
}
