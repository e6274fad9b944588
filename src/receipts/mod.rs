//! Signed consent receipts: for every consent event, a Kantara Consent Receipt v1.1 signed as a
//! compact JWS (EdDSA, `kid` the RFC 7638 thumbprint of the key), written in the event's own
//! transaction, so the person and anyone they show it to can check what was recorded without
//! trusting the database. The keys are published at `/.well-known/jwks.json`.

pub mod deferred;
mod lifecycle;
pub mod listing;
pub mod published;
pub mod routes;
pub mod unwritten;

use crate::db::schema::{consent_events, consent_receipts, purposes};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::{ApiError, ApiResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The receipt signing key and its published form.
pub struct ReceiptKey {
    key: SigningKey,
    /// The RFC 7638 thumbprint.
    pub kid: String,
    /// The public key, base64url.
    pub x: String,
}

impl ReceiptKey {
    /// Wraps a signing key.
    pub fn new(key: SigningKey) -> Self {
        let x = B64URL.encode(key.verifying_key().as_bytes());
        Self {
            key,
            kid: thumbprint(&x),
            x,
        }
    }

    /// A detached compact JWS (RFC 7515 appendix F: `header..signature`) over `payload`'s exact
    /// bytes, its kind named in `typ`.
    pub fn detached(&self, typ: &str, payload: &[u8]) -> String {
        let (header, _, signature) = self.parts(typ, payload);
        format!("{header}..{signature}")
    }

    /// A compact JWS carrying `payload`'s exact bytes, its kind named in `typ`: the signature
    /// and the bytes it covers travel together, so a reader tells a changed signature from a
    /// changed copy of the bytes beside it.
    pub fn attached(&self, typ: &str, payload: &[u8]) -> String {
        let (header, payload, signature) = self.parts(typ, payload);
        format!("{header}.{payload}.{signature}")
    }

    /// The three base64url parts of a JWS over `payload`.
    fn parts(&self, typ: &str, payload: &[u8]) -> (String, String, String) {
        let header =
            B64URL.encode(json!({"alg": "EdDSA", "kid": self.kid, "typ": typ}).to_string());
        let payload = B64URL.encode(payload);
        let signature = self.key.sign(format!("{header}.{payload}").as_bytes());
        (header, payload, B64URL.encode(signature.to_bytes()))
    }

    /// The compact JWS of a payload.
    pub fn sign(&self, payload: &serde_json::Value) -> String {
        let header = json!({"alg": "EdDSA", "kid": self.kid, "typ": "kantara-cr+jwt"});
        let input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(payload.to_string())
        );
        let signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64URL.encode(signature.to_bytes()))
    }
}

/// RFC 7638: SHA-256 of the required members in lexicographic order, base64url.
pub fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    B64URL.encode(Sha256::digest(canonical.as_bytes()))
}

/// The OKP JWK of a public key.
pub fn jwk(kid: &str, x: &str) -> serde_json::Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"})
}

/// The process's key: receipts are written inside the consent batch's transaction, which holds
/// no application state; installed once at start, like the access-log key.
static KEY: OnceLock<ReceiptKey> = OnceLock::new();

/// Installs the key; a second, different key in the same process is refused.
pub fn install(key: SigningKey) -> Result<(), String> {
    let wanted = ReceiptKey::new(key);
    let kid = wanted.kid.clone();
    if KEY.get_or_init(|| wanted).kid != kid {
        return Err("RECEIPT_SIGNING_KEY cannot change while the process runs".into());
    }
    Ok(())
}

/// The installed key.
pub fn key() -> ApiResult<&'static ReceiptKey> {
    KEY.get()
        .ok_or_else(|| ApiError::internal("no receipt key installed"))
}

/// One consent event, as its receipt states it.
#[derive(Clone)]
pub struct Event<'a> {
    pub id: EventId,
    pub subject_id: SubjectId,
    pub purpose_id: &'a str,
    /// `opt_in` or `opt_out`.
    pub basis: &'a str,
    /// `granted` or `withdrawn`.
    pub status: &'a str,
    pub method: &'a str,
    pub at: DateTime<Utc>,
}

/// What kind of consent the event is: the withdrawal of an opt-out purpose is an objection
/// (Art. 21), not a consent; granting one lifts that objection.
fn consent_type(basis: &str, status: &str) -> &'static str {
    match (basis, status) {
        ("opt_out", "withdrawn") => "objection",
        ("opt_out", _) => "implicit",
        _ => "explicit",
    }
}

/// True for a purpose whose data go to third parties (PlanPro's contract partners).
fn discloses(purpose_id: &str) -> bool {
    purpose_id.contains("partner")
}

/// The Kantara Consent Receipt v1.1 payload of an event: the controller as configured, and for
/// a purpose that discloses, the names of the third parties (`third_parties`: the recipients
/// the person's data may go to on the strength of their consent).
pub fn payload(
    event: &Event<'_>,
    description: &str,
    third_parties: Option<&str>,
) -> serde_json::Value {
    let controller = crate::controller::current();
    let mut purpose = json!({
        "purpose": description,
        "purposeCategory": [event.purpose_id],
        "consentType": consent_type(event.basis, event.status),
        "piiCategory": ["contact"],
        "primaryPurpose": false,
        "termination": "on withdrawal",
        "thirdPartyDisclosure": discloses(event.purpose_id) || third_parties.is_some(),
    });
    if let Some(names) = third_parties {
        purpose["thirdPartyName"] = json!(names);
    }
    json!({
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "EE",
        "consentTimestamp": event.at.timestamp(),
        "collectionMethod": event.method,
        "consentReceiptID": event.id,
        "language": "en",
        "piiPrincipalId": event.subject_id,
        "piiControllers": [{
            "piiController": controller.name,
            "contact": "Data protection",
            "address": controller.address,
            "email": controller.email,
            "phone": null,
            "piiControllerUrl": null,
            "registryCode": controller.registry_code.as_ref().map(|c| c.as_str()),
            "onBehalf": false,
        }],
        "policyUrl": controller.policy_url,
        "storageLocation": controller.storage_location,
        "services": [{
            "service": "PlanPro contact and marketing",
            "purposes": [purpose],
        }],
        "sensitive": false,
        "spiCat": [],
        "status": event.status,
        "state": if event.status == "granted" { "given" } else { "withdrawn" },
        "withdrawalMethod": format!("the privacy centre, or e-mail to {}", controller.email),
        "retention": null,
        "guardian": null,
    })
}

/// The English descriptions of the purposes the events name (one query for a whole batch).
fn descriptions(
    conn: &mut PgConnection,
    events: &[Event<'_>],
) -> ApiResult<HashMap<String, String>> {
    let ids: Vec<&str> = events.iter().map(|e| e.purpose_id).collect();
    Ok(purposes::table
        .filter(purposes::id.eq_any(&ids))
        .select((purposes::id, purposes::description_en))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// For each (subject, purpose) among the events: the names of the recipients of the subject's
/// consent-based authorizations in force that follow the purpose (or, following none, of a
/// purpose that discloses), sorted and joined (one query).
fn third_parties(
    conn: &mut PgConnection,
    events: &[Event<'_>],
) -> ApiResult<HashMap<(SubjectId, String), String>> {
    use crate::db::schema::{disclosure_authorizations as a, recipients as r};
    let subjects: Vec<SubjectId> = events.iter().map(|e| e.subject_id).collect();
    let now = Utc::now();
    let rows: Vec<(SubjectId, Option<String>, String)> = a::table
        .inner_join(r::table)
        .filter(a::subject_id.eq_any(&subjects))
        .filter(a::legal_basis.eq("consent"))
        .filter(a::revoked_at.is_null())
        .filter(a::valid_from.le(now))
        .filter(a::valid_until.is_null().or(a::valid_until.gt(now)))
        .select((a::subject_id, a::consent_purpose, r::name))
        .distinct()
        .order((a::subject_id, r::name))
        .load(conn)?;
    let mut names: HashMap<(SubjectId, String), Vec<String>> = HashMap::new();
    for event in events {
        let follows = |p: &Option<String>| match p {
            Some(p) => p == event.purpose_id,
            None => discloses(event.purpose_id),
        };
        let found: Vec<String> = rows
            .iter()
            .filter(|(s, p, _)| *s == event.subject_id && follows(p))
            .map(|(_, _, name)| name.clone())
            .collect();
        if !found.is_empty() {
            names.insert((event.subject_id, event.purpose_id.to_owned()), found);
        }
    }
    Ok(names
        .into_iter()
        .map(|(key, mut list)| {
            list.dedup();
            (key, list.join(", "))
        })
        .collect())
}

/// Signs and stores the receipts of these events, in the caller's transaction: one statement,
/// which also lists the key among the published ones the first time it signs.
pub fn record(conn: &mut PgConnection, events: &[Event<'_>]) -> ApiResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let key = key()?;
    let described = descriptions(conn, events)?;
    let third = third_parties(conn, events)?;
    let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
    let lifecycles = lifecycle::of(conn, &ids)?;
    let mut receipts = Vec::with_capacity(events.len());
    for event in events {
        let description = described
            .get(event.purpose_id)
            .map_or(event.purpose_id, String::as_str);
        let names = third
            .get(&(event.subject_id, event.purpose_id.to_owned()))
            .map(String::as_str);
        let mut body = payload(event, description, names);
        if let Some(lifecycle) = lifecycles.get(&event.id) {
            lifecycle.stamp(&mut body, event.status)?;
        }
        receipts.push(key.sign(&body));
    }
    store(conn, key, &ids, receipts)
}

/// Stores signed receipts of `events` (one each, in order) with one statement, which also lists
/// the key among the published ones the first time it signs; a receipt already stored is kept.
fn store(
    conn: &mut PgConnection,
    key: &ReceiptKey,
    events: &[EventId],
    receipts: Vec<String>,
) -> ApiResult<()> {
    diesel::sql_query(
        "WITH k AS (INSERT INTO receipt_keys (kid, x) VALUES ($1, $2) ON CONFLICT DO NOTHING) \
         INSERT INTO consent_receipts (event_id, kid, jws) \
         SELECT e, $1, j FROM unnest($3::uuid[], $4::text[]) AS v(e, j) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind::<Text, _>(&key.kid)
    .bind::<Text, _>(&key.x)
    .bind::<Array<SqlUuid>, _>(events)
    .bind::<Array<Text>, _>(receipts)
    .execute(conn)?;
    Ok(())
}

/// The erasure's receipts (`rights::erasure`), as data-modifying CTEs of its one statement: the
/// signed receipts `{jws}` of the events `{events}`, and the key `{kid}` / `{x}` listed among the
/// published ones the first time it signs (not at all when nothing was signed).
pub const ERASURE_RECEIPTS: &str =
    "k AS (INSERT INTO receipt_keys (kid, x) SELECT {kid}, {x} WHERE cardinality({jws}::text[]) > 0 \
           ON CONFLICT DO NOTHING), \
     r AS (INSERT INTO consent_receipts (event_id, kid, jws) \
           SELECT e, {kid}, j FROM unnest({events}::uuid[], {jws}::text[]) AS u(e, j) \
           ON CONFLICT (event_id) DO NOTHING)";

/// The receipt of one of the subject's events: stored, or (for an event recorded before
/// receipts existed) signed now and stored. `None` when the subject has no such event.
pub fn find(
    conn: &mut PgConnection,
    subject: SubjectId,
    event_id: EventId,
) -> ApiResult<Option<String>> {
    let stored: Option<String> = consent_receipts::table
        .inner_join(consent_events::table)
        .filter(consent_events::subject_id.eq(subject))
        .filter(consent_receipts::event_id.eq(event_id))
        .select(consent_receipts::jws)
        .first(conn)
        .optional()?;
    if stored.is_some() {
        return Ok(stored);
    }
    let event: Option<(String, String, String, String, DateTime<Utc>)> = consent_events::table
        .inner_join(purposes::table)
        .filter(consent_events::id.eq(event_id))
        .filter(consent_events::subject_id.eq(subject))
        .select((
            consent_events::purpose_id,
            purposes::basis,
            consent_events::status,
            consent_events::method,
            consent_events::at,
        ))
        .first(conn)
        .optional()?;
    let Some((purpose_id, basis, status, method, at)) = event else {
        return Ok(None);
    };
    let event = Event {
        id: event_id,
        subject_id: subject,
        purpose_id: &purpose_id,
        basis: &basis,
        status: &status,
        method: &method,
        at,
    };
    conn.transaction(|conn| record(conn, std::slice::from_ref(&event)))?;
    find(conn, subject, event_id)
}
