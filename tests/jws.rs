//! Checks of the service's JSON Web Signatures with a second Ed25519 library (ed25519-compact),
//! against the published JWK set: shared by every test that reads a receipt or a signed register.

use crate::harness::TestApp;
use actix_web::test::TestRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The service's published verification keys.
pub async fn jwks(app: &TestApp) -> Value {
    app.send(TestRequest::get().uri("/.well-known/jwks.json"))
        .await
        .json()
}

/// The payload of a compact JWS, unverified (for tests about its content; `verify` checks it).
pub fn payload_unverified(jws: &str) -> Value {
    let part = jws.split('.').nth(1).expect("a compact JWS");
    serde_json::from_slice(&B64URL.decode(part).expect("base64url")).expect("JSON")
}

/// Verifies a compact JWS with the JWK set and returns its header and payload.
pub fn verify(jws: &str, jwks: &Value) -> (Value, Value) {
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let payload: Value = serde_json::from_slice(&B64URL.decode(parts[1]).unwrap()).unwrap();
    let header = check_signature(parts[0], parts[1], parts[2], jwks);
    (header, payload)
}

/// Verifies a compact JWS with a detached payload (RFC 7515 appendix F) over `body`, its exact
/// bytes, and returns its header.
pub fn verify_detached(jws: &str, body: &[u8], jwks: &Value) -> Value {
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    assert_eq!(parts[1], "", "detached: the payload part is empty");
    check_signature(parts[0], &B64URL.encode(body), parts[2], jwks)
}

/// Checks the signature over `header.payload` with the key the header names, and that the key
/// is published as the contract says (OKP Ed25519, `kid` its RFC 7638 thumbprint).
fn check_signature(header: &str, payload: &str, signature: &str, jwks: &Value) -> Value {
    let decoded: Value = serde_json::from_slice(&B64URL.decode(header).unwrap()).unwrap();
    assert_eq!(decoded["alg"], "EdDSA");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == decoded["kid"])
        .expect("the kid is published");
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert_eq!(
        (key["use"].as_str(), key["alg"].as_str()),
        (Some("sig"), Some("EdDSA"))
    );
    let x = key["x"].as_str().unwrap();
    let thumbprint = B64URL.encode(Sha256::digest(
        format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#).as_bytes(),
    ));
    assert_eq!(decoded["kid"], thumbprint, "kid is the RFC 7638 thumbprint");
    let public = ed25519_compact::PublicKey::from_slice(&B64URL.decode(x).unwrap()).unwrap();
    let signature =
        ed25519_compact::Signature::from_slice(&B64URL.decode(signature).unwrap()).unwrap();
    public
        .verify(format!("{header}.{payload}").as_bytes(), &signature)
        .expect("the signature verifies");
    decoded
}
