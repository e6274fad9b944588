//! The words of a refused token's 401: which claim or part is at fault, never a value from it, so
//! that an integrator can fix the token without the answer echoing what it carried.

/// What is wrong with a refused token, naming the claim where one is at fault.
pub(super) fn describe(error: &jsonwebtoken::errors::Error, token: &str) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match error.kind() {
        K::ExpiredSignature => "the `exp` claim has passed: the token expired".into(),
        K::ImmatureSignature => "the `nbf` claim is in the future: not yet valid".into(),
        K::InvalidIssuer => "the `iss` claim is not the expected issuer".into(),
        K::InvalidAudience => "the `aud` claim is not the expected audience".into(),
        K::InvalidAlgorithm => "the header's `alg` is not accepted".into(),
        K::InvalidSignature => "bad signature".into(),
        K::MissingRequiredClaim(claim) => format!("the `{claim}` claim is missing"),
        _ => malformed(token),
    }
}

/// Why a token that is not a well-formed JWT was refused: its shape, its header, or the claim
/// whose type is wrong (never its value).
fn malformed(token: &str) -> String {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return "malformed: a JWT is three base64url parts joined by dots".into();
    }
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()
    };
    let json = |part: &str| {
        decode(part).and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    };
    let Some(serde_json::Value::Object(_)) = json(parts[0]) else {
        return "malformed: the header is not base64url-encoded JSON".into();
    };
    let Some(serde_json::Value::Object(claims)) = json(parts[1]) else {
        return "malformed: the claims are not a base64url-encoded JSON object".into();
    };
    let numeric = ["exp", "nbf", "iat"];
    let text = ["sub", "iss", "scope", "recipient_id", "jti"];
    for (name, value) in &claims {
        if numeric.contains(&name.as_str()) && value.as_u64().is_none() {
            return format!(
                "malformed: the `{name}` claim must be a number of seconds since 1970-01-01 UTC"
            );
        }
        if text.contains(&name.as_str()) && !value.is_string() {
            return format!("malformed: the `{name}` claim must be a string");
        }
        if name == "aud" && !(value.is_string() || value.is_array()) {
            return "malformed: the `aud` claim must be a string or an array of strings".into();
        }
    }
    if let Some(claim) = ["sub", "exp"]
        .into_iter()
        .find(|c| !claims.contains_key(*c))
    {
        return format!("the `{claim}` claim is missing");
    }
    if decode(parts[2]).is_none() {
        return "malformed: the signature is not base64url".into();
    }
    "malformed".into()
}
