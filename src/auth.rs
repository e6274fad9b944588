//! Bearer-JWT authentication and scope checks.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::Arc;
use uuid::Uuid;

mod bounds;
mod claims;
pub use claims::Claims;
pub mod jwks;
mod refusal;
pub mod subject;
mod verifier;
pub use subject::SubjectLogin;
pub use verifier::Verifier;

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

/// An authenticated caller: who, with which scopes, and for partners which recipient; for a
/// person's own token, their login (no scope: every staff and partner endpoint refuses it).
#[derive(Debug, Clone)]
pub struct Actor {
    /// What the access log records as the actor: the token's `sub`, or for a person
    /// `subject:<id>` once matched (never their code).
    pub sub: String,
    scopes: u32,
    pub recipient_id: Option<Uuid>,
    pub login: Option<Arc<SubjectLogin>>,
}

impl Actor {
    /// Builds an actor from a subject and scopes (used by tests and internal jobs).
    pub fn new(sub: impl Into<String>, scopes: &[Scope], recipient_id: Option<Uuid>) -> Self {
        Self {
            sub: sub.into(),
            scopes: scopes.iter().fold(0, |acc, s| acc | s.bit()),
            recipient_id,
            login: None,
        }
    }

    /// A person calling with their own token, not yet matched to a record.
    pub fn person(login: SubjectLogin) -> Self {
        Self {
            sub: subject::UNKNOWN_SUBJECT.to_owned(),
            scopes: 0,
            recipient_id: None,
            login: Some(Arc::new(login)),
        }
    }

    /// True when the token carries the scope.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes & scope.bit() != 0
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
