//! Checks bearer tokens: the staff key (a secret, a public key or an identity provider's set),
//! and, when configured, the subject identity provider's set for persons' own tokens. The two
//! never check each other's tokens: a token's `iss` chooses the keys, and a subject token's
//! issuer may not be the staff one.

use super::actor::{Actor, Scope};
use super::claims::Claims;
use super::refusal::describe;
use super::subject::{is_self_scope, unverified_issuer, SubjectLogin};
use super::{bounds, jwks};
use crate::config::{JwksConfig, JwtKey, PublicKeyAlgorithm, SubjectSettings};
use crate::domain::acr::Acr;
use crate::error::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::sync::Arc;
use uuid::Uuid;

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Verifies tokens with the configured keys.
pub struct Verifier {
    staff: Checker,
    /// The subject identity provider's keys and issuer.
    subject: Option<(Checker, String)>,
    min_acr: Acr,
}

/// One source of keys and the checks of every token it signs.
struct Checker {
    keys: Keys,
    /// Required claims, issuer, audience, leeway.
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

fn base_validation(issuer: Option<&str>, audience: Option<&str>) -> Validation {
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
    base
}

fn start_set(config: &JwksConfig) -> Result<Arc<jwks::KeySet>, jsonwebtoken::errors::Error> {
    jwks::KeySet::start(config).map_err(|why| {
        log::error!("{why}");
        jsonwebtoken::errors::Error::from(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)
    })
}

impl Checker {
    /// The token's claims once its signature, times, issuer and audience are checked.
    fn decode(&self, token: &str) -> Result<Claims, ApiError> {
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
        Ok(data.claims)
    }

    fn needs_refresh(&self, token: &str) -> Option<Arc<jwks::KeySet>> {
        let Keys::Set(set) = &self.keys else {
            return None;
        };
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        (set.get(&kid).is_none() && set.claim_on_demand()).then(|| Arc::clone(set))
    }
}

impl Verifier {
    /// A verifier for the configured keys; key sets are fetched now and kept fresh from here on.
    pub fn new(
        key: &JwtKey,
        issuer: Option<&str>,
        audience: Option<&str>,
        subject: &SubjectSettings,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let base = base_validation(issuer, audience);
        let keys = match key {
            JwtKey::Jwks(config) => Keys::Set(start_set(config)?),
            single => Keys::One(Box::new((
                single.decoding_key()?,
                only(&base, single_algorithm(single)),
            ))),
        };
        let min_acr = subject.min_acr;
        let subject = match &subject.keys {
            None => None,
            Some(keys) => Some((
                Checker {
                    keys: Keys::Set(start_set(&keys.jwks)?),
                    base: base_validation(Some(&keys.issuer), Some(&keys.audience)),
                },
                keys.issuer.clone(),
            )),
        };
        Ok(Self {
            staff: Checker { keys, base },
            subject,
            min_acr,
        })
    }

    /// The subject identity provider's checker when the token claims its issuer.
    fn subject_checker(&self, token: &str) -> Option<&Checker> {
        let (checker, issuer) = self.subject.as_ref()?;
        (unverified_issuer(token).as_deref() == Some(issuer.as_str())).then_some(checker)
    }

    /// When the token names a key that its set lacks and a fetch may be made now: the set, to
    /// refresh (waiting at most [`jwks::ON_DEMAND_WAIT`]) before [`Verifier::verify`].
    pub fn needs_refresh(&self, token: &str) -> Option<Arc<jwks::KeySet>> {
        self.subject_checker(token)
            .unwrap_or(&self.staff)
            .needs_refresh(token)
    }

    /// Checks a bearer token and returns its actor.
    pub fn verify(&self, token: &str) -> Result<Actor, ApiError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ApiError::Unauthorized("the token is too large".into()));
        }
        if let Some(checker) = self.subject_checker(token) {
            let claims = checker.decode(token)?;
            return Ok(Actor::person(SubjectLogin::from_claims(
                &claims,
                true,
                self.min_acr,
            )?));
        }
        let claims = self.staff.decode(token)?;
        match is_self_scope(claims.scope.as_deref()) {
            None => Err(ApiError::Unauthorized(
                "invalid token: the scope `self` is never given with other scopes".into(),
            )),
            Some(true) if claims.recipient_id.is_some() => Err(ApiError::Unauthorized(
                "invalid token: a `self` token names no `recipient_id`".into(),
            )),
            Some(true) => Ok(Actor::person(SubjectLogin::from_claims(
                &claims,
                false,
                self.min_acr,
            )?)),
            Some(false) => staff_actor(claims),
        }
    }
}

/// A staff or partner token's actor.
fn staff_actor(claims: Claims) -> Result<Actor, ApiError> {
    // The actor is stored in every record and log entry: control characters have no place
    // there (a NUL cannot even be stored, and would fail a whole group commit of the log),
    // nor have characters that would show a log reader another actor than the stored one.
    // `subject:` and `link:` name the person and their links in the person's own log view.
    if claims.sub.trim().is_empty()
        || claims.sub.len() > 200
        || claims.sub.starts_with("subject:")
        || claims.sub.starts_with("link:")
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
        login: None,
    })
}
