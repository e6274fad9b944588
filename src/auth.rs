//! Bearer-JWT authentication and scope checks.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use uuid::Uuid;

mod actor;
mod bounds;
mod claims;
pub use claims::Claims;
pub mod jwks;
mod refusal;
pub mod subject;
mod verifier;
pub use actor::{Actor, Scope};
pub use subject::SubjectLogin;
pub use verifier::{Verifier, MAX_TOKEN_BYTES};

/// Signs an HS256 token (the `token` command and the development token).
pub fn sign(secret: &str, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

/// Claims for a token valid for `ttl_secs` from now.
pub fn claims_for(sub: &str, scope: &str, recipient_id: Option<Uuid>, ttl_secs: u64) -> Claims {
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    Claims {
        sub: sub.to_owned(),
        exp: now + ttl_secs,
        iat: Some(now),
        nbf: None,
        iss: None,
        aud: None,
        scope: Some(scope.to_owned()),
        recipient_id: recipient_id.map(|id| id.to_string()),
        acr: None,
        amr: None,
        jti: None,
        auth_time: None,
    }
}

/// Parses a duration like `90s`, `15m`, `1h` or `7d` into seconds.
pub fn parse_ttl(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.len().checked_sub(1)?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(factor).filter(|s| *s > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("1h"), Some(3600));
        assert_eq!(parse_ttl("15m"), Some(900));
        assert_eq!(parse_ttl("2d"), Some(172_800));
        assert_eq!(parse_ttl("0s"), None);
        assert_eq!(parse_ttl("h"), None);
        assert_eq!(parse_ttl("10y"), None);
    }

    #[test]
    fn scopes_are_parsed_and_unknown_ones_ignored() {
        let key = crate::config::JwtKey::Secret(crate::config::Secret::new("k".repeat(32)));
        let verifier = Verifier::new(&key, None, None, &Default::default()).unwrap();
        let token = sign(
            &"k".repeat(32),
            &claims_for("alice", "subjects:read bogus partner", None, 60),
        )
        .unwrap();
        let actor = verifier.verify(&token).unwrap();
        assert!(actor.has(Scope::SubjectsRead) && actor.has(Scope::Partner));
        assert!(!actor.has(Scope::SubjectsWrite));
    }
}
