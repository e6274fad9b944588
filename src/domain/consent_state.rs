//! The lifecycle of a consent (ISO/IEC TS 27560, DPV): the state a flag is in, how a purpose
//! version asks for confirmation, and when a grant with a validity expires.

use super::consent::Basis;
use super::deadline::{plus_months, tallinn_date};
use super::retention::tallinn_midnight;
use super::stored::stored_enum;
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

stored_enum! {
    /// The state of a flag, computed when read (the database's `consent_state`).
    ConsentState {
        /// No decision recorded.
        Unset = "unset",
        /// The last grant: confirmed, valid and not invalidated (DPV ConsentGiven).
        Given = "given",
        /// So, and made while an earlier grant was in force (RenewedConsentGiven).
        Renewed = "renewed",
        /// A double opt-in waiting for its confirmation (ConsentRequested).
        PendingConfirmation = "pending_confirmation",
        /// Its validity ended, or its confirmation token lapsed (ConsentExpired).
        Expired = "expired",
        /// A material version of an opt-in purpose followed the grant's (ConsentInvalidated).
        Invalidated = "invalidated",
        /// The last decision a withdrawal, a grant before it (ConsentWithdrawn).
        Withdrawn = "withdrawn",
        /// The last decision a withdrawal, never a grant before it (ConsentRefused).
        Refused = "refused",
    }
}

stored_enum! {
    /// How a grant of a purpose version takes effect.
    Confirmation {
        /// At once.
        None = "none",
        /// Once the person confirms it through a one-time link.
        DoubleOptIn = "double_opt_in",
    }
}

impl ConsentState {
    /// Whether a flag in this state lets the person be contacted for a purpose of `basis`.
    pub fn eligible(self, basis: Basis) -> bool {
        match self {
            Self::Given | Self::Renewed => true,
            Self::Unset => basis == Basis::OptOut,
            _ => false,
        }
    }
}

/// D: the Tallinn date of `given_at` plus `months` calendar months (the month's last day when it
/// has no such day number). The grant is valid through D.
pub fn valid_through(given_at: DateTime<Utc>, months: u32) -> Option<NaiveDate> {
    plus_months(tallinn_date(given_at), months)
}

/// `expires_at`: 00:00 Tallinn time on the day after D. `None` past the calendar's end.
pub fn expires_at(given_at: DateTime<Utc>, months: u32) -> Option<DateTime<Utc>> {
    tallinn_midnight(valid_through(given_at, months)?.succ_opt()?)
}

/// SHA-256 (hex) of the RFC 8785 JSON of a text object: members sorted, no spaces, strings
/// escaped as serde_json does (ECMAScript's escaping, which RFC 8785 prescribes).
pub fn notice_sha256(
    et: &str,
    en: &str,
    ru: Option<&str>,
) -> Result<String, crate::error::ApiError> {
    let string = |s: &str| serde_json::to_string(s).map_err(crate::error::ApiError::internal);
    let mut canonical = format!(r#"{{"en":{},"et":{}"#, string(en)?, string(et)?);
    if let Some(ru) = ru {
        canonical.push_str(&format!(r#","ru":{}"#, string(ru)?));
    }
    canonical.push('}');
    Ok(Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::stored::assert_one_spelling;
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn names_are_the_stored_names() {
        assert_one_spelling(ConsentState::ALL, ConsentState::as_str);
        assert_one_spelling(Confirmation::ALL, Confirmation::as_str);
    }

    #[test]
    fn the_contracts_worked_examples_hold() {
        // 31 January + 1 month: D is 28 February, expiry at Tallinn midnight (winter, UTC+2).
        assert_eq!(
            expires_at(at("2026-01-31T10:00:00Z"), 1),
            Some(at("2026-02-28T22:00:00Z"))
        );
        // 21:30 UTC on 9 June is 10 June in Tallinn (summer, UTC+3): D is 10 December.
        assert_eq!(
            expires_at(at("2026-06-09T21:30:00Z"), 6),
            Some(at("2026-12-10T22:00:00Z"))
        );
        // D 10 July, in summer time: midnight is 21:00 UTC.
        assert_eq!(
            expires_at(at("2026-01-10T08:00:00Z"), 6),
            Some(at("2026-07-10T21:00:00Z"))
        );
    }

    #[test]
    fn leap_days_and_long_validities() {
        assert_eq!(
            valid_through(at("2024-02-29T12:00:00Z"), 12),
            NaiveDate::from_ymd_opt(2025, 2, 28)
        );
        assert_eq!(
            valid_through(at("2026-03-15T12:00:00Z"), 240),
            NaiveDate::from_ymd_opt(2046, 3, 15)
        );
    }

    #[test]
    fn only_a_grant_in_force_is_eligible_and_unset_follows_the_basis() {
        for state in ConsentState::ALL {
            let in_force = matches!(state, ConsentState::Given | ConsentState::Renewed);
            assert_eq!(state.eligible(Basis::OptIn), in_force, "{state:?}");
            let opt_out = in_force || state == ConsentState::Unset;
            assert_eq!(state.eligible(Basis::OptOut), opt_out, "{state:?}");
        }
    }
}
