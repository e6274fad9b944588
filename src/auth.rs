//! Bearer-JWT authentication and scope checks.

use crate::config::{JwtKey, PublicKeyAlgorithm};
use crate::error::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The scopes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    SubjectsRead,
    SubjectsWrite,
    ConsentsRead,
    ConsentsWrite,
    RecipientsRead,
    RecipientsWrite,
    DisclosuresRead,
    DisclosuresWrite,
    AccessLogsRead,
    Partner,
    AccessLogsCheckpoint,
    RequestsRead,
    RequestsWrite,
}

impl Scope {
    /// Every scope, in the contract's order.
    pub const ALL: [Scope; 13] = [
        Scope::SubjectsRead,
        Scope::SubjectsWrite,
        Scope::ConsentsRead,
        Scope::ConsentsWrite,
        Scope::RecipientsRead,
        Scope::RecipientsWrite,
        Scope::DisclosuresRead,
        Scope::DisclosuresWrite,
        Scope::AccessLogsRead,
        Scope::Partner,
        Scope::AccessLogsCheckpoint,
        Scope::RequestsRead,
        Scope::RequestsWrite,
    ];

    /// The scope's name in the `scope` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SubjectsRead => "subjects:read",
            Scope::SubjectsWrite => "subjects:write",
            Scope::ConsentsRead => "consents:read",
            Scope::ConsentsWrite => "consents:write",
            Scope::RecipientsRead => "recipients:read",
            Scope::RecipientsWrite => "recipients:write",
            Scope::DisclosuresRead => "disclosures:read",
            Scope::DisclosuresWrite => "disclosures:write",
            Scope::AccessLogsRead => "access-logs:read",
            Scope::Partner => "partner",
            Scope::AccessLogsCheckpoint => "access-logs:checkpoint",
            Scope::RequestsRead => "requests:read",
            Scope::RequestsWrite => "requests:write",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Every staff scope (all but `partner`), space-separated: what a development token carries.
    pub fn all_staff() -> String {
        Self::ALL
            .iter()
            .filter(|s| **s != Scope::Partner)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The claims we read and write.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
}

/// An authenticated caller: who, with which scopes, and for partners which recipient.
#[derive(Debug, Clone)]
pub struct Actor {
    pub sub: String,
    scopes: u32,
    pub recipient_id: Option<Uuid>,
}

impl Actor {
    /// Builds an actor from a subject and scopes (used by tests and internal jobs).
    pub fn new(sub: impl Into<String>, scopes: &[Scope], recipient_id: Option<Uuid>) -> Self {
        Self {
            sub: sub.into(),
            scopes: scopes.iter().fold(0, |acc, s| acc | s.bit()),
            recipient_id,
        }
    }

    /// True when the token carries the scope.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes & scope.bit() != 0
    }
}

/// Verifies tokens with the configured key.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

fn algorithm(key: &JwtKey) -> Algorithm {
    match key {
        JwtKey::Secret(_) => Algorithm::HS256,
        JwtKey::PublicKey { algorithm, .. } => match algorithm {
            PublicKeyAlgorithm::Rs256 => Algorithm::RS256,
            PublicKeyAlgorithm::Es256 => Algorithm::ES256,
            PublicKeyAlgorithm::EdDsa => Algorithm::EdDSA,
        },
    }
}

impl Verifier {
    /// A verifier accepting exactly one algorithm: the key's own, so no algorithm confusion.
    pub fn new(
        key: &JwtKey,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(algorithm(key));
        validation.leeway = 5;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        required.extend(issuer.map(|_| "iss"));
        required.extend(audience.map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        match issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(Self {
            key: key.decoding_key()?,
            validation,
        })
    }

    /// Checks a bearer token and returns its actor.
    pub fn verify(&self, token: &str) -> Result<Actor, ApiError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ApiError::Unauthorized("the token is too large".into()));
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| ApiError::Unauthorized(format!("invalid token: {}", describe(&e))))?;
        let claims = data.claims;
        // The actor is stored in every record and log entry: control characters have no place
        // there (a NUL cannot even be stored, and would fail a whole group commit of the log),
        // nor have characters that would show a log reader another actor than the stored one.
        if claims.sub.trim().is_empty()
            || claims.sub.len() > 200
            || crate::domain::text::check_controls(&claims.sub, false).is_err()
        {
            return Err(ApiError::Unauthorized("invalid token: bad `sub`".into()));
        }
        let mut scopes = 0;
        for name in claims.scope.as_deref().unwrap_or("").split_whitespace() {
            if let Some(scope) = Scope::ALL.iter().find(|s| s.as_str() == name) {
                scopes |= scope.bit();
            }
        }
        let recipient_id = match claims.recipient_id.as_deref() {
            None => None,
            Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| {
                ApiError::Unauthorized("invalid token: `recipient_id` is not a UUID".into())
            })?),
        };
        Ok(Actor {
            sub: claims.sub,
            scopes,
            recipient_id,
        })
    }
}

fn describe(error: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match error.kind() {
        K::ExpiredSignature => "expired",
        K::ImmatureSignature => "not yet valid",
        K::InvalidIssuer => "wrong issuer",
        K::InvalidAudience => "wrong audience",
        K::InvalidAlgorithm => "algorithm not accepted",
        K::InvalidSignature => "bad signature",
        K::MissingRequiredClaim(_) => "a required claim is missing",
        _ => "malformed",
    }
}

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
        let key = JwtKey::Secret(crate::config::Secret::new("k".repeat(32)));
        let verifier = Verifier::new(&key, None, None).unwrap();
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
