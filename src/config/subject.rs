//! The subject identity provider (contract v3, section A): the key set that signs persons' own
//! tokens (TARA, eeID), the issuer and audience those tokens carry, and the least assurance level
//! a person's login must reach.

use super::jwt::{read_key_set, JwksConfig};
use super::reader::Reader;
use crate::domain::acr::Acr;

/// Where persons' tokens come from and what they must carry.
#[derive(Debug, Clone)]
pub struct SubjectKeys {
    pub jwks: JwksConfig,
    /// `SUBJECT_ISSUER`: a token with this `iss` is checked against these keys only.
    pub issuer: String,
    /// `SUBJECT_AUDIENCE`.
    pub audience: String,
}

/// The settings of subject tokens.
#[derive(Debug, Clone)]
pub struct SubjectSettings {
    /// `None`: no identity provider; only staff-key `self` tokens are subject tokens.
    pub keys: Option<SubjectKeys>,
    /// `SUBJECT_MIN_ACR` (default `substantial`).
    pub min_acr: Acr,
}

impl Default for SubjectSettings {
    fn default() -> Self {
        Self {
            keys: None,
            min_acr: Acr::Substantial,
        }
    }
}

impl SubjectSettings {
    /// Reads the variables; `jwt_issuer` is the staff tokens' issuer, which the subject one may
    /// not equal (a token of one kind would be checked as the other).
    pub(super) fn read(r: &mut Reader<'_>, jwt_issuer: Option<&str>) -> Self {
        let jwks = read_key_set(r, "SUBJECT");
        let issuer = r.raw("SUBJECT_ISSUER").map(|v| v.trim().to_owned());
        let audience = r.raw("SUBJECT_AUDIENCE").map(|v| v.trim().to_owned());
        let min_acr = r.parsed_as(
            "SUBJECT_MIN_ACR",
            Acr::Substantial,
            "low, substantial or high",
            Acr::parse,
        );
        if let (Some(subject), Some(staff)) = (issuer.as_deref(), jwt_issuer) {
            if subject == staff.trim() {
                r.problems.push(format!(
                    "SUBJECT_ISSUER ({subject}) equals JWT_ISSUER ({staff}): persons' and staff \
                     tokens must come from different issuers"
                ));
            }
        }
        let keys = match (jwks, issuer, audience) {
            (Some(jwks), Some(issuer), Some(audience))
                if !issuer.is_empty() && !audience.is_empty() =>
            {
                Some(SubjectKeys {
                    jwks,
                    issuer,
                    audience,
                })
            }
            (None, None, None) => None,
            _ => {
                r.problems.push(
                    "SUBJECT_JWKS_URL (or SUBJECT_JWKS_FILE), SUBJECT_ISSUER and SUBJECT_AUDIENCE \
                     go together: set all three or none"
                        .to_owned(),
                );
                None
            }
        };
        Self { keys, min_acr }
    }
}
