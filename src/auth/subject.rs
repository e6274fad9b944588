//! Subject tokens (contract v3, section A): a person's own login, from the subject identity
//! provider or minted with the staff key with scope `self`. The personal code in `sub` lives only
//! here, in memory, for the blind-index lookup: it is never printed, stored or logged (the
//! actor of what such a token does is `subject:<id>`).

use super::claims::Claims;
use crate::domain::acr::Acr;
use crate::domain::personal_code::PersonalCode;
use crate::error::ApiError;

/// The `issuer` recorded for a token minted with the staff key: it proves no eID login.
pub const STAFF_KEY_ISSUER: &str = "staff-key";
/// The actor of a subject token before its code is matched to a record, and when none matches.
pub const UNKNOWN_SUBJECT: &str = "subject:unknown";
/// The only scope a staff-key subject token carries.
pub const SELF_SCOPE: &str = "self";

/// A person's login, as their token states it.
#[derive(Clone)]
pub struct SubjectLogin {
    code: PersonalCode,
    /// The token's `iss`, or [`STAFF_KEY_ISSUER`].
    pub issuer: String,
    pub acr: Option<Acr>,
    pub amr: Vec<String>,
    pub jti: Option<String>,
    /// When the person logged in: `auth_time`, else `iat` (seconds since the epoch).
    pub verified_at: Option<u64>,
}

impl std::fmt::Debug for SubjectLogin {
    // The code never reaches a log line, not even through a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectLogin")
            .field("issuer", &self.issuer)
            .field("acr", &self.acr)
            .finish_non_exhaustive()
    }
}

impl SubjectLogin {
    /// The person's code, for the blind-index lookup only.
    pub fn code(&self) -> &PersonalCode {
        &self.code
    }

    /// True when an identity provider vouches for the login (an eID), not the staff key.
    pub fn is_eid(&self) -> bool {
        self.issuer != STAFF_KEY_ISSUER
    }

    /// Checks a verified token's claims as a subject token: `sub` is `EE` + a valid code, `acr`
    /// a known level reaching `min` (an identity provider's token must carry one unless the
    /// minimum is `low`; a staff-key token need not, but one it carries is checked).
    pub fn from_claims(claims: &Claims, from_provider: bool, min: Acr) -> Result<Self, ApiError> {
        let code = claims
            .sub
            .strip_prefix("EE")
            .and_then(|digits| PersonalCode::parse(digits).ok())
            .filter(|code| claims.sub.len() == 2 + code.as_str().len())
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "invalid token: `sub` must be EE and a valid personal code (isikukood)".into(),
                )
            })?;
        let acr = match claims.acr.as_deref() {
            None if from_provider && min > Acr::Low => return Err(ApiError::AcrTooLow(min)),
            None => None,
            Some(raw) => {
                let level = Acr::parse(raw).ok_or_else(|| {
                    ApiError::Unauthorized(
                        "invalid token: `acr` must be low, substantial or high".into(),
                    )
                })?;
                if level < min {
                    return Err(ApiError::AcrTooLow(min));
                }
                Some(level)
            }
        };
        Ok(Self {
            code,
            issuer: if from_provider {
                claims.iss.clone().unwrap_or_default()
            } else {
                STAFF_KEY_ISSUER.to_owned()
            },
            acr,
            amr: claims.amr.clone().unwrap_or_default(),
            jti: claims.jti.clone(),
            verified_at: claims.auth_time.or(claims.iat),
        })
    }
}

/// The `iss` of a token, read before its signature is checked: it only chooses which keys check
/// it, and a token claiming the wrong issuer fails under those keys.
pub fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Issuer {
        iss: Option<String>,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<Issuer>(&bytes).ok()?.iss
}

/// What the `scope` claim of a staff-key token makes of it: `Some(true)` a subject token (scope
/// exactly `self`), `Some(false)` a staff or partner token, `None` refused (`self` with others).
pub fn is_self_scope(scope: Option<&str>) -> Option<bool> {
    let names: Vec<&str> = scope.unwrap_or("").split_whitespace().collect();
    match (names.contains(&SELF_SCOPE), names.len()) {
        (true, 1) => Some(true),
        (true, _) => None,
        (false, _) => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str, acr: Option<&str>) -> Claims {
        Claims {
            sub: sub.to_owned(),
            exp: 0,
            iat: None,
            nbf: None,
            iss: None,
            aud: None,
            scope: Some(SELF_SCOPE.to_owned()),
            recipient_id: None,
            acr: acr.map(str::to_owned),
            amr: None,
            jti: None,
            auth_time: None,
        }
    }

    #[test]
    fn sub_must_be_ee_and_a_valid_code() {
        for bad in [
            "49403136526",
            "EE49403136527",
            "EE4940313652",
            "ee49403136526",
            "EE 49403136526",
            "EE49403136526 ",
        ] {
            assert!(
                SubjectLogin::from_claims(&claims(bad, None), false, Acr::Substantial).is_err(),
                "{bad}"
            );
        }
        let ok = SubjectLogin::from_claims(&claims("EE49403136526", None), false, Acr::High);
        assert_eq!(ok.unwrap().code().as_str(), "49403136526");
    }

    #[test]
    fn acr_levels_and_the_minimum() {
        let check = |acr, provider, min| {
            SubjectLogin::from_claims(&claims("EE49403136526", acr), provider, min)
        };
        assert!(matches!(
            check(None, true, Acr::Substantial),
            Err(ApiError::AcrTooLow(Acr::Substantial))
        ));
        assert!(check(None, true, Acr::Low).is_ok());
        assert!(
            check(None, false, Acr::High).is_ok(),
            "a staff-key token needs none"
        );
        assert!(matches!(
            check(Some("low"), false, Acr::Substantial),
            Err(ApiError::AcrTooLow(_))
        ));
        assert!(matches!(
            check(Some("medium"), false, Acr::Low),
            Err(ApiError::Unauthorized(_))
        ));
        assert_eq!(
            check(Some("high"), true, Acr::Substantial).unwrap().acr,
            Some(Acr::High)
        );
    }

    #[test]
    fn self_is_alone_or_refused() {
        assert_eq!(is_self_scope(Some("self")), Some(true));
        assert_eq!(is_self_scope(Some(" self ")), Some(true));
        assert_eq!(is_self_scope(Some("self subjects:read")), None);
        assert_eq!(is_self_scope(Some("subjects:read")), Some(false));
        assert_eq!(is_self_scope(None), Some(false));
    }

    #[test]
    fn the_code_is_not_in_a_debug_print() {
        let login =
            SubjectLogin::from_claims(&claims("EE49403136526", None), false, Acr::Low).unwrap();
        assert!(!format!("{login:?}").contains("49403136526"));
    }
}
