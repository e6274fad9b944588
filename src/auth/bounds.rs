//! What a verified token must also respect: no critical header extension (this service
//! understands none, so RFC 7515 §4.1.11 says reject), times that are dates at all (an `exp` of
//! 2^63 is not a date, only a way never to expire) and an `iat` no more than a minute ahead of
//! this clock.

use jsonwebtoken::Header;

/// The latest time a claim may name: 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const LATEST: u64 = 253_402_300_799;
/// How far ahead of this clock a token may say it was issued.
const IAT_AHEAD_SECS: u64 = 60;

/// A token's times: `exp`, `iat` and `nbf`.
pub(super) struct Times {
    pub exp: u64,
    pub iat: Option<u64>,
    pub nbf: Option<u64>,
}

/// Why the token is refused, if it is.
pub(super) fn check(header: &Header, claims: &Times, now: u64) -> Result<(), String> {
    if let Some(crit) = &header.crit {
        return Err(format!(
            "the header's `crit` names extensions this service does not understand ({})",
            crit.join(", ")
        ));
    }
    for (name, at) in [
        ("exp", Some(claims.exp)),
        ("iat", claims.iat),
        ("nbf", claims.nbf),
    ] {
        if at.is_some_and(|at| at > LATEST) {
            return Err(format!("`{name}` is not a time before the year 10000"));
        }
    }
    if claims.iat.is_some_and(|iat| iat > now + IAT_AHEAD_SECS) {
        return Err(format!(
            "`iat` is more than {IAT_AHEAD_SECS} s ahead of this service's clock"
        ));
    }
    Ok(())
}
