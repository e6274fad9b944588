//! Receipts signed after the commit: a retention batch records its withdrawals' events and
//! leaves the signatures out of its transaction, so no row lock waits on signing. The events are
//! what is to be signed, committed with the erasure: the receipts are signed right after the
//! batch commits (their payloads made in the transaction, from what was in force before it, as
//! the erasure endpoint makes them) and, for any a crash left unsigned, before the run is marked
//! finished (as any written event's receipt is signed).

use super::{key, record, store, Event};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};

/// A withdrawal recorded by an erasure whose receipt is still to be signed.
#[derive(QueryableByName)]
struct Unsigned {
    #[diesel(sql_type = SqlUuid)]
    event_id: EventId,
    #[diesel(sql_type = SqlUuid)]
    subject_id: SubjectId,
    #[diesel(sql_type = Text)]
    purpose_id: String,
    #[diesel(sql_type = Text)]
    basis: String,
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
}

impl Unsigned {
    /// The event as its receipt states it: a withdrawal through the API.
    fn event(&self) -> Event<'_> {
        Event {
            id: self.event_id,
            subject_id: self.subject_id,
            purpose_id: &self.purpose_id,
            basis: &self.basis,
            status: "withdrawn",
            method: "api",
            at: self.at,
        }
    }
}

/// Receipts whose payloads were made in the set's transaction (from what was in force before
/// it), to sign once it has committed.
#[derive(Default)]
pub struct Prepared {
    /// Each receipt's event.
    pub events: Vec<EventId>,
    /// Each receipt's payload.
    pub bodies: Vec<serde_json::Value>,
}

/// Signs and stores prepared receipts with one statement of its own (no transaction of the
/// caller's needed); one already stored is kept.
pub fn sign_and_store(conn: &mut PgConnection, prepared: &Prepared) -> ApiResult<()> {
    if prepared.events.is_empty() {
        return Ok(());
    }
    let key = key()?;
    let receipts: Vec<String> = prepared.bodies.iter().map(|b| key.sign(b)).collect();
    store(conn, key, &prepared.events, receipts)
}

/// Withdrawal events recorded under `request_id` still without a receipt, signed at a time.
const CATCH_UP: i64 = 1_000;

/// Signs every withdrawal recorded under `request_id` (a retention run's) that has no receipt
/// yet: those whose batch committed just before a crash. Returns how many it signed.
pub fn sign_left_unsigned(conn: &mut PgConnection, request_id: &str) -> ApiResult<usize> {
    let mut signed = 0;
    loop {
        let unsigned: Vec<Unsigned> = diesel::sql_query(
            "SELECT e.id AS event_id, e.subject_id, e.purpose_id, p.basis, e.at \
             FROM consent_events e JOIN purposes p ON p.id = e.purpose_id \
             WHERE e.request_id = $1 AND e.status = 'withdrawn' AND e.method = 'api' \
               AND NOT EXISTS (SELECT 1 FROM consent_receipts r WHERE r.event_id = e.id) \
             LIMIT $2",
        )
        .bind::<Text, _>(request_id)
        .bind::<diesel::sql_types::BigInt, _>(CATCH_UP)
        .load(conn)?;
        if unsigned.is_empty() {
            return Ok(signed);
        }
        // Signed as any written event's receipt is (`receipts::record`).
        let events: Vec<Event<'_>> = unsigned.iter().map(Unsigned::event).collect();
        conn.transaction(|conn| record(conn, &events))?;
        signed += unsigned.len();
    }
}
