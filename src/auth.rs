//! Bearer-JWT authentication and scope checks.

use crate::config::{JwtKey, PublicKeyAlgorithm};
use crate::error::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

mod bounds;
pub mod jwks;
mod refusal;
use refusal::describe;

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
    SubjectsErase,
    RetentionRead,
    RetentionWrite,
    RequestsRead,
    RequestsWrite,
    NotificationsRead,
    NotificationsWrite,
    AccessLogsCheckpoint,
    RopaRead,
    RopaWrite,
    BreachesRead,
    BreachesWrite,
}

impl Scope {
    /// Every scope, in the contract's order (version 1, then version 2).
    pub const ALL: [Scope; 22] = [
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
        Scope::SubjectsErase,
        Scope::RetentionRead,
        Scope::RetentionWrite,
        Scope::RequestsRead,
        Scope::RequestsWrite,
        Scope::NotificationsRead,
        Scope::NotificationsWrite,
        Scope::AccessLogsCheckpoint,
        Scope::RopaRead,
        Scope::RopaWrite,
        Scope::BreachesRead,
        Scope::BreachesWrite,
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
            Scope::SubjectsErase => "subjects:erase",
            Scope::RetentionRead => "retention:read",
            Scope::RetentionWrite => "retention:write",
            Scope::RequestsRead => "requests:read",
            Scope::RequestsWrite => "requests:write",
            Scope::NotificationsRead => "notifications:read",
            Scope::NotificationsWrite => "notifications:write",
            Scope::AccessLogsCheckpoint => "access-logs:checkpoint",
            Scope::RopaRead => "ropa:read",
            Scope::RopaWrite => "ropa:write",
            Scope::BreachesRead => "breaches:read",
            Scope::BreachesWrite => "breaches:write",
        }
    }

    /// The scope of a name in the `scope` claim.
    pub fn from_name(name: &str) -> Option<Scope> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Every scope name, space-separated: what an error lists as the valid ones.
    pub fn names() -> String {
        Self::ALL.map(Scope::as_str).join(" ")
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
    /// Checked by the validation, which also takes an array (as identity providers send); only
    /// written here, for the tokens this service signs.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
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

/// Verifies tokens with the configured key or key set.
pub struct Verifier {
    keys: Keys,
    /// The checks of every token: required claims, issuer, audience, leeway.
    base: Validation,
}

enum Keys {
    /// One key and the validation accepting only its algorithm.
    One(Box<(DecodingKey, Validation)>),
    /// An identity provider's set: each token names its key by `kid`.
    Set(Arc<jwks::KeySet>),
}

fn single_algorithm(key: &JwtKey) -> Algorithm {
    match key {
        JwtKey::PublicKey { algorithm, .. } => match algorithm {
            PublicKeyAlgorithm::Rs256 => Algorithm::RS256,
            PublicKeyAlgorithm::Es256 => Algorithm::ES256,
            PublicKeyAlgorithm::EdDsa => Algorithm::EdDSA,
        },
        JwtKey::Secret(_) | JwtKey::Jwks(_) => Algorithm::HS256,
    }
}

/// `base` accepting exactly one algorithm: the key's own, so no algorithm confusion.
fn only(base: &Validation, algorithm: Algorithm) -> Validation {
    let mut validation = base.clone();
    validation.algorithms = vec![algorithm];
    validation
}

impl Verifier {
    /// A verifier for the configured key; a key set is fetched now and kept fresh from here on.
    pub fn new(
        key: &JwtKey,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let mut base = Validation::new(Algorithm::HS256);
        base.leeway = 5;
        base.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        required.extend(issuer.map(|_| "iss"));
        required.extend(audience.map(|_| "aud"));
        base.set_required_spec_claims(&required);
        match issuer {
            Some(iss) => base.set_issuer(&[iss]),
            None => base.iss = None,
        }
        match audience {
            Some(aud) => base.set_audience(&[aud]),
            None => base.validate_aud = false,
        }
        let keys = match key {
            JwtKey::Jwks(config) => Keys::Set(jwks::KeySet::start(config).map_err(|why| {
                log::error!("{why}");
                jsonwebtoken::errors::Error::from(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)
            })?),
            single => Keys::One(Box::new((
                single.decoding_key()?,
                only(&base, single_algorithm(single)),
            ))),
        };
        Ok(Self { keys, base })
    }

    /// When the token names a key that the set lacks and a fetch may be made now: the set, to
    /// refresh (waiting at most [`jwks::ON_DEMAND_WAIT`]) before [`Verifier::verify`].
    pub fn needs_refresh(&self, token: &str) -> Option<Arc<jwks::KeySet>> {
        let Keys::Set(set) = &self.keys else {
            return None;
        };
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        (set.get(&kid).is_none() && set.claim_on_demand()).then(|| Arc::clone(set))
    }

    /// Checks a bearer token and returns its actor.
    pub fn verify(&self, token: &str) -> Result<Actor, ApiError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ApiError::Unauthorized("the token is too large".into()));
        }
        let refused = |e: jsonwebtoken::errors::Error| {
            ApiError::Unauthorized(format!("invalid token: {}", describe(&e, token)))
        };
        let data = match &self.keys {
            Keys::One(one) => jsonwebtoken::decode::<Claims>(token, &one.0, &one.1),
            Keys::Set(set) => {
                let header = jsonwebtoken::decode_header(token).map_err(refused)?;
                let kid = header.kid.ok_or_else(|| {
                    ApiError::Unauthorized("invalid token: the header names no `kid`, and tokens are checked against the identity provider's key set".into())
                })?;
                let key = set.get(&kid).ok_or_else(|| {
                    ApiError::Unauthorized("invalid token: the header's `kid` names no key of the identity provider's key set".into())
                })?;
                let validation = only(&self.base, key.algorithm);
                jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            }
        }
        .map_err(refused)?;
        let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        let times = bounds::Times {
            exp: data.claims.exp,
            iat: data.claims.iat,
            nbf: data.claims.nbf,
        };
        bounds::check(&data.header, &times, now)
            .map_err(|why| ApiError::Unauthorized(format!("invalid token: {why}")))?;

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
            if let Some(scope) = Scope::from_name(name) {
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
