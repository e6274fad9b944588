//! Confirming a double opt-in: the one-time token turns a pending grant into a `given` one,
//! with its own consent event (evidence: the confirming request's network prefix and user
//! agent), its receipt and its access-log entry, in one transaction.

use super::confirmation::{hash_of, well_formed, VALID_HOURS};
use super::model::event_evidence_at;
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::at_rest;
use crate::body::JsonBody;
use crate::caller::RequestId;
use crate::db::schema::{consent_confirmations, consent_events, subjects};
use crate::domain::consent_state::{expires_at, ConsentState};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::extract::Validate;
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;
use std::net::IpAddr;
use utoipa::ToSchema;

/// The actor of everything a confirmation link does.
pub const ACTOR: &str = "link:confirmation";

/// The token of a confirmation link.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmationRequest {
    /// The one-time token: 43 base64url characters.
    #[schema(
        example = "kq3v0mJ4b1Xo9pT2cW8yZr5nLd6HfAe7gUiSsB0tQ1w",
        max_length = 43
    )]
    pub token: String,
}

impl Validate for ConfirmationRequest {}

/// What both of the link's endpoints start with: the token's SHA-256 and the request's id. A
/// malformed token is 404 and is written nowhere.
pub async fn token_of(
    req: &HttpRequest,
    body: JsonBody<ConfirmationRequest>,
) -> actix_web::Result<([u8; 32], String)> {
    let token = body.read().await?.token;
    if !well_formed(&token) {
        return Err(ApiError::not_found("confirmation token").into());
    }
    Ok((hash_of(&token), RequestId::of(req)))
}

/// A confirmed grant.
pub struct Confirmed {
    pub purpose: String,
    pub confirmed_at: DateTime<Utc>,
}

/// 410 `confirmation-expired`.
fn expired() -> ApiError {
    ApiError::client(
        StatusCode::GONE,
        "confirmation-expired",
        "this confirmation link was used, replaced, withdrawn or has lapsed",
    )
}

/// The network a request came from: its address masked to /24 (IPv4) or /48 (IPv6), in CIDR
/// notation, which proves where the confirmation came from without keeping the address.
pub fn ip_prefix(peer: IpAddr) -> String {
    match peer {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => ip_prefix(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
                format!("{net}/48")
            }
        },
    }
}

/// The pending grant a token names, locked.
#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Bytea>)]
    confirmation_sha256: Option<Vec<u8>>,
    #[diesel(sql_type = Text)]
    method: String,
    #[diesel(sql_type = Int4)]
    purpose_version: i32,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Text)]
    basis: String,
    #[diesel(sql_type = Nullable<Int4>)]
    validity_months: Option<i32>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    guardian_subject_id: Option<SubjectId>,
}

/// The pending grant a live token names.
pub struct Live {
    pub subject: SubjectId,
    pub purpose: String,
    pub purpose_version: i32,
    pub created_at: DateTime<Utc>,
    pending: Pending,
}

/// The grant the token hashing to `hash` asks to confirm, locked when `lock`: 404 for an
/// unknown token; for a known one, `Ok(Err((subject, refusal)))`: 410 `subject-erased` (checked
/// first) or `confirmation-expired` (used, replaced, withdrawn, invalidated or lapsed). Changes
/// nothing.
pub fn live(
    conn: &mut PgConnection,
    hash: &[u8; 32],
    lock: bool,
) -> ApiResult<Result<Live, (SubjectId, ApiError)>> {
    type Issued = (SubjectId, String, DateTime<Utc>, Option<DateTime<Utc>>);
    let query = consent_confirmations::table.find(hash.to_vec()).select((
        consent_confirmations::subject_id,
        consent_confirmations::purpose_id,
        consent_confirmations::created_at,
        consent_confirmations::used_at,
    ));
    let token: Option<Issued> = if lock {
        query.for_update().first(conn).optional()?
    } else {
        query.first(conn).optional()?
    };
    let (subject, purpose, created_at, used_at) =
        token.ok_or_else(|| ApiError::not_found("confirmation token"))?;
    let erased_at: Option<DateTime<Utc>> = subjects::table
        .find(subject)
        .select(subjects::erased_at)
        .for_key_share()
        .first(conn)?;
    if let Some(at) = erased_at {
        return Ok(Err((subject, ApiError::Erased(at))));
    }
    let pending: Pending = diesel::sql_query(format!(
        "SELECT c.status, c.confirmation_sha256, c.method, c.purpose_version, \
           {} AS state, p.basis, v.validity_months, c.guardian_subject_id \
         FROM consents c JOIN purposes p ON p.id = c.purpose_id \
         JOIN purpose_versions v ON v.purpose_id = c.purpose_id AND v.version = c.purpose_version \
         WHERE c.subject_id = $1 AND c.purpose_id = $2 {}",
        super::state::STATE_OF_C,
        if lock { "FOR UPDATE OF c" } else { "" }
    ))
    .bind::<SqlUuid, _>(subject)
    .bind::<Text, _>(&purpose)
    .get_result(conn)?;
    let now = Utc::now().trunc_subsecs(6);
    let alive = used_at.is_none()
        && pending.status == "granted"
        && pending.confirmation_sha256.as_deref() == Some(hash.as_slice())
        && pending.state == ConsentState::PendingConfirmation.as_str()
        && now < created_at + Duration::hours(VALID_HOURS);
    if !alive {
        return Ok(Err((subject, expired())));
    }
    Ok(Ok(Live {
        subject,
        purpose,
        purpose_version: pending.purpose_version,
        created_at,
        pending,
    }))
}

/// [`live`], with a known token's refusal written as a denied `action` entry about its subject
/// (every use of a known token is logged, as a download link's is): `Ok(Err(refusal))` lets the
/// caller's transaction commit that entry, and nothing else changes.
pub fn live_or_denied(
    conn: &mut PgConnection,
    hash: &[u8; 32],
    lock: bool,
    action: Action,
    request_id: &str,
) -> ApiResult<Result<Live, ApiError>> {
    match live(conn, hash, lock)? {
        Ok(live) => Ok(Ok(live)),
        Err((subject, refusal)) => {
            let denied = entry(subject, action, Outcome::Denied, request_id);
            access_log::record(conn, &[denied])?;
            Ok(Err(refusal))
        }
    }
}

/// Confirms the grant whose token hashes to `hash`, in the caller's transaction. 404 for an
/// unknown token (nothing written); `Ok(Err(..))`, with only its denied entry written, for 410
/// `subject-erased` (checked first) or `confirmation-expired`.
pub fn confirm(
    conn: &mut PgConnection,
    hash: &[u8; 32],
    evidence: &str,
    request_id: &str,
) -> ApiResult<Result<Confirmed, ApiError>> {
    let Live {
        subject,
        purpose,
        pending,
        ..
    } = match live_or_denied(conn, hash, true, Action::ConsentConfirm, request_id)? {
        Ok(live) => live,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let now = Utc::now().trunc_subsecs(6);
    let event = EventId::new();
    let row = *event.uuid().as_bytes();
    let key = at_rest::subject_key(conn, subject)?;
    let sealed = key.and_then(|k| k.seal_text(event_evidence_at(&row), Some(evidence)));
    diesel::insert_into(consent_events::table)
        .values((
            consent_events::id.eq(event),
            consent_events::subject_id.eq(subject),
            consent_events::purpose_id.eq(&purpose),
            consent_events::status.eq("granted"),
            consent_events::method.eq(&pending.method),
            consent_events::evidence_enc.eq(sealed),
            consent_events::actor.eq(ACTOR),
            consent_events::at.eq(now),
            consent_events::request_id.eq(request_id),
            consent_events::state.eq(ConsentState::Given.as_str()),
            consent_events::purpose_version.eq(pending.purpose_version),
            consent_events::guardian_subject_id.eq(pending.guardian_subject_id),
        ))
        .execute(conn)?;
    let months = pending.validity_months.and_then(|m| u32::try_from(m).ok());
    diesel::sql_query(
        "UPDATE consents SET last_event_id = $3, updated_at = $4, updated_by = $5, \
           given_at = $4, expires_at = $6, confirmation_expires_at = NULL, \
           confirmation_sha256 = NULL, renewed = false \
         WHERE subject_id = $1 AND purpose_id = $2",
    )
    .bind::<SqlUuid, _>(subject)
    .bind::<Text, _>(&purpose)
    .bind::<SqlUuid, _>(event)
    .bind::<Timestamptz, _>(now)
    .bind::<Text, _>(ACTOR)
    .bind::<Nullable<Timestamptz>, _>(months.and_then(|m| expires_at(now, m)))
    .execute(conn)?;
    diesel::update(consent_confirmations::table.find(hash.to_vec()))
        .set(consent_confirmations::used_at.eq(now))
        .execute(conn)?;
    crate::receipts::record(
        conn,
        &[crate::receipts::Event {
            id: event,
            subject_id: subject,
            purpose_id: &purpose,
            basis: &pending.basis,
            status: "granted",
            method: &pending.method,
            at: now,
        }],
    )?;
    crate::subjects::model::touch_many(conn, &[subject], now)?;
    let allowed = entry(
        subject,
        Action::ConsentConfirm,
        Outcome::Allowed,
        request_id,
    );
    access_log::record(conn, &[allowed])?;
    Ok(Ok(Confirmed {
        purpose,
        confirmed_at: now,
    }))
}

/// An entry of a confirmation link's call (`consent.confirm`, or `consent.read` for the page
/// that shows what it confirms): no bearer, so the link is the actor.
pub fn entry(subject: SubjectId, action: Action, outcome: Outcome, request_id: &str) -> NewEntry {
    NewEntry {
        id: uuid::Uuid::now_v7(),
        at: Utc::now().trunc_subsecs(6),
        actor: ACTOR.to_owned(),
        recipient_id: None,
        action: action.as_str().to_owned(),
        subject_id: Some(subject.uuid()),
        outcome: outcome.as_str().to_owned(),
        purpose: None,
        request_id: request_id.to_owned(),
        count: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_the_contracts_networks() {
        let v4: IpAddr = "192.0.2.77".parse().unwrap();
        assert_eq!(ip_prefix(v4), "192.0.2.0/24");
        let v6: IpAddr = "2001:db8:1:2:3::9".parse().unwrap();
        assert_eq!(ip_prefix(v6), "2001:db8:1::/48");
        let mapped: IpAddr = "::ffff:198.51.100.7".parse().unwrap();
        assert_eq!(ip_prefix(mapped), "198.51.100.0/24");
    }
}
