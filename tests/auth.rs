//! Authentication and authorization: every way a token can be wrong is a 401 with
//! `WWW-Authenticate: Bearer` naming RFC 6750's `invalid_token`; a valid token without the scope is
//! a 403 naming `insufficient_scope` and the scope.

use crate::harness::{test_config, token_for, Resp, TestApp, TestDb, SECRET};
use actix_web::test::TestRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use planpro_privacy::auth::{claims_for, Claims, Scope};
use planpro_privacy::config::{JwtKey, PublicKeyAlgorithm, Secret};
use std::process::Command;

const PROTECTED: &str = "/v1/access-logs";

async fn with_token(app: &TestApp, token: &str) -> Resp {
    app.send(
        TestRequest::get()
            .uri(PROTECTED)
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
}

#[track_caller]
fn assert_unauthorized(res: &Resp) {
    res.assert_invalid_token();
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

fn hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn valid_claims() -> serde_json::Value {
    serde_json::json!({"sub": "alice", "exp": now() + 600, "scope": "access-logs:read"})
}

#[actix_web::test]
async fn a_valid_token_with_the_scope_is_accepted() {
    let app = TestApp::spawn().await;
    with_token(&app, &hs256(&valid_claims(), SECRET.as_bytes()))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn missing_or_malformed_authorization_is_401() {
    let app = TestApp::spawn().await;
    app.send(TestRequest::get().uri(PROTECTED))
        .await
        .assert_no_token();
    for header in [
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer",
        "Bearer ",
        "Bearer not.a.jwt",
        "Bearer a.b",
    ] {
        let res = app
            .send(
                TestRequest::get()
                    .uri(PROTECTED)
                    .insert_header(("Authorization", header)),
            )
            .await;
        assert_unauthorized(&res);
    }
}

#[actix_web::test]
async fn bad_signature_expired_and_not_yet_valid_tokens_are_401() {
    let app = TestApp::spawn().await;
    assert_unauthorized(
        &with_token(
            &app,
            &hs256(&valid_claims(), b"another-secret-another-secret-another"),
        )
        .await,
    );
    let mut expired = valid_claims();
    expired["exp"] = (now() - 120).into();
    assert_unauthorized(&with_token(&app, &hs256(&expired, SECRET.as_bytes())).await);
    let mut early = valid_claims();
    early["nbf"] = (now() + 600).into();
    assert_unauthorized(&with_token(&app, &hs256(&early, SECRET.as_bytes())).await);
}

#[actix_web::test]
async fn tokens_without_sub_or_exp_are_401() {
    let app = TestApp::spawn().await;
    for missing in ["sub", "exp"] {
        let mut claims = valid_claims();
        claims.as_object_mut().unwrap().remove(missing);
        let res = with_token(&app, &hs256(&claims, SECRET.as_bytes())).await;
        assert_unauthorized(&res);
    }
}

#[actix_web::test]
async fn alg_none_is_refused() {
    let app = TestApp::spawn().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(valid_claims().to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_unauthorized(&with_token(&app, &token).await);
    }
}

#[actix_web::test]
async fn oversized_tokens_are_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let mut claims = valid_claims();
    claims["padding"] = "x".repeat(20_000).into();
    let res = with_token(&app, &hs256(&claims, SECRET.as_bytes())).await;
    assert_unauthorized(&res);
    assert!(res.json()["detail"].as_str().unwrap().contains("too large"));
}

#[actix_web::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let db = TestDb::new();
    let mut config = test_config(&db.url);
    config.jwt_issuer = Some("https://id.planpro.ee".into());
    config.jwt_audience = Some("planpro-privacy".into());
    let app = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    let mut good = valid_claims();
    good["iss"] = "https://id.planpro.ee".into();
    good["aud"] = "planpro-privacy".into();
    with_token(&app, &hs256(&good, SECRET.as_bytes()))
        .await
        .assert_status(200);
    for (claim, value) in [("iss", "https://evil.example"), ("aud", "someone-else")] {
        let mut bad = good.clone();
        bad[claim] = value.into();
        assert_unauthorized(&with_token(&app, &hs256(&bad, SECRET.as_bytes())).await);
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("aud");
    assert_unauthorized(&with_token(&app, &hs256(&missing, SECRET.as_bytes())).await);
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn keypair(kind: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let dir = crate::harness::scratch("keys");
    std::fs::create_dir_all(&dir).unwrap();
    let private = dir.join("private.pem");
    let private_path = private.to_str().unwrap();
    let mut args = vec!["genpkey"];
    args.extend_from_slice(kind);
    args.extend_from_slice(&["-out", private_path]);
    openssl(&args);
    let public = openssl(&["pkey", "-in", private_path, "-pubout"]);
    (std::fs::read(&private).unwrap(), public)
}

async fn public_key_app(algorithm: PublicKeyAlgorithm, public: Vec<u8>) -> TestApp {
    let db = TestDb::new();
    let config = test_config(&db.url);
    TestApp::on(
        db,
        &config,
        &JwtKey::PublicKey {
            pem: public,
            algorithm,
        },
    )
    .await
}

#[actix_web::test]
async fn rs256_tokens_verify_and_hs256_signed_with_the_public_key_is_refused() {
    let (private, public) = keypair(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
    let app = public_key_app(PublicKeyAlgorithm::Rs256, public.clone()).await;
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &valid_claims(),
        &EncodingKey::from_rsa_pem(&private).unwrap(),
    )
    .unwrap();
    with_token(&app, &good).await.assert_status(200);
    // The classic confusion attack: an HS256 token whose HMAC key is the server's public key.
    assert_unauthorized(&with_token(&app, &hs256(&valid_claims(), &public)).await);
    // And the configured HS256 secret means nothing to an RS256 deployment.
    assert_unauthorized(&with_token(&app, &hs256(&valid_claims(), SECRET.as_bytes())).await);
}

#[actix_web::test]
async fn es256_and_eddsa_public_keys_work() {
    let (private, public) = keypair(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    let app = public_key_app(PublicKeyAlgorithm::Es256, public).await;
    let pkcs8 = openssl_pkcs8(&private);
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &valid_claims(),
        &EncodingKey::from_ec_pem(&pkcs8).unwrap(),
    )
    .unwrap();
    with_token(&app, &token).await.assert_status(200);

    let (private, public) = keypair(&["-algorithm", "ed25519"]);
    let app = public_key_app(PublicKeyAlgorithm::EdDsa, public).await;
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &valid_claims(),
        &EncodingKey::from_ed_pem(&private).unwrap(),
    )
    .unwrap();
    with_token(&app, &token).await.assert_status(200);
    // An RS-style header on an EdDSA deployment is refused.
    assert_unauthorized(&with_token(&app, &hs256(&valid_claims(), SECRET.as_bytes())).await);
}

fn openssl_pkcs8(private: &[u8]) -> Vec<u8> {
    let dir = crate::harness::scratch("keys");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("k.pem");
    std::fs::write(&path, private).unwrap();
    openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", path.to_str().unwrap()])
}

#[actix_web::test]
async fn a_valid_token_without_the_scope_is_403_and_logged() {
    let app = TestApp::spawn().await;
    let token = token_for("mallory", &[Scope::SubjectsRead, Scope::Partner], None);
    let res = with_token(&app, &token).await;
    res.assert_missing_scope("access-logs:read");
    let body = res.assert_problem(403, "insufficient-scope");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("access-logs:read"));
    assert_eq!(
        app.db
            .count("SELECT 1 FROM access_log WHERE actor = 'mallory' AND outcome = 'denied'"),
        1
    );
}

#[test]
fn the_token_command_signs_what_the_service_accepts() {
    let claims: Claims = claims_for("bob", "subjects:read", None, 60);
    assert!(claims.exp > now());
    let token = planpro_privacy::auth::sign(SECRET, &claims).unwrap();
    let verifier = planpro_privacy::auth::Verifier::new(
        &JwtKey::Secret(Secret::new(SECRET)),
        None,
        None,
        &Default::default(),
    )
    .unwrap();
    let actor = verifier.verify(&token).unwrap();
    assert_eq!(actor.sub, "bob");
    assert!(actor.has(Scope::SubjectsRead) && !actor.has(Scope::SubjectsWrite));
}
