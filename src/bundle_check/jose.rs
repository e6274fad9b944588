//! Compact JWS checked against a JWK set, through the `jsonwebtoken` crate (not the service's
//! signer): `alg` must be `EdDSA`, `kid` must name a key of the set, `typ` the kind expected.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// A JWK set.
#[derive(Clone)]
pub struct KeySet(JwkSet);

impl KeySet {
    /// Reads `{"keys": [...]}`.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes)
            .map(Self)
            .map_err(|e| format!("it is not a JWK set: {e}"))
    }
}

/// The payload of a compact JWS, unchecked (to tell which file a failure lies in).
pub fn unverified_payload(jws: &str) -> Option<Vec<u8>> {
    let mut parts = jws.trim_end().split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    B64URL.decode(payload).ok()
}

/// The payload of `jws` once its signature by a key of `keys` is checked and its `typ` is
/// `typ`; why not, otherwise.
pub fn verify(jws: &str, keys: &KeySet, typ: &str) -> Result<Vec<u8>, String> {
    let jws = jws.trim_end();
    if jws.split('.').count() != 3 || jws.contains("..") {
        return Err("it is not a compact JWS with its payload".into());
    }
    let header = jsonwebtoken::decode_header(jws).map_err(|e| format!("its header: {e}"))?;
    if header.alg != Algorithm::EdDSA {
        return Err("its `alg` is not EdDSA".into());
    }
    if header.typ.as_deref() != Some(typ) {
        return Err(format!("its `typ` is not `{typ}`"));
    }
    let kid = header.kid.ok_or("its header names no `kid`")?;
    let jwk = keys
        .0
        .find(&kid)
        .ok_or_else(|| format!("no key `{kid}` in the key set"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("the key `{kid}`: {e}"))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    // A signed document, not a token: no time or audience claims to check.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(jws, &key, &validation)
        .map_err(|e| format!("its signature does not verify: {e}"))?;
    unverified_payload(jws).ok_or_else(|| "its payload is not base64url".into())
}
