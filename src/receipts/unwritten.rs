//! Receipts of withdrawals not yet written: an erasure writes its events, their receipts and the
//! revocation of every authorization in one statement, so it signs the receipts first, from what
//! is in force before that statement — with every member a written event's receipt carries
//! (purpose version, notice hash, termination, third parties, state, retention).

use super::{key, lifecycle, payload, third_parties, Event};
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use diesel::PgConnection;

/// A withdrawal about to be written.
pub struct Withdrawal<'a> {
    /// The event as it will be written.
    pub event: Event<'a>,
    /// The purpose's description, as the receipt states it.
    pub description: &'a str,
    /// The purpose version it is bound to (the one in force).
    pub purpose_version: i32,
    /// The state it leaves the flag in: `withdrawn`, or `refused` when never granted.
    pub state: &'a str,
}

/// The signed receipt of each withdrawal, in order (two queries, however many there are).
pub fn sign(conn: &mut PgConnection, withdrawals: &[Withdrawal<'_>]) -> ApiResult<Vec<String>> {
    let key = key()?;
    Ok(payloads(conn, withdrawals)?
        .iter()
        .map(|body| key.sign(body))
        .collect())
}

/// The receipt payload of each withdrawal, in order, of one subject or many (two queries): what
/// `sign` signs now, or a retention set signs once it has committed.
pub fn payloads(
    conn: &mut PgConnection,
    withdrawals: &[Withdrawal<'_>],
) -> ApiResult<Vec<serde_json::Value>> {
    if withdrawals.is_empty() {
        return Ok(Vec::new());
    }
    let events: Vec<Event<'_>> = withdrawals.iter().map(|w| w.event.clone()).collect();
    let third = third_parties(conn, &events)?;
    let subjects: Vec<SubjectId> = events.iter().map(|e| e.subject_id).collect();
    let ids: Vec<_> = events.iter().map(|e| e.id).collect();
    let purposes: Vec<&str> = events.iter().map(|e| e.purpose_id).collect();
    let versions: Vec<i32> = withdrawals.iter().map(|w| w.purpose_version).collect();
    let states: Vec<&str> = withdrawals.iter().map(|w| w.state).collect();
    let lifecycles = lifecycle::of_unwritten(conn, &subjects, &ids, &purposes, &versions, &states)?;
    withdrawals
        .iter()
        .map(|w| {
            let names = third
                .get(&(w.event.subject_id, w.event.purpose_id.to_owned()))
                .map(String::as_str);
            let mut body = payload(&w.event, w.description, names);
            lifecycles
                .get(&w.event.id)
                .ok_or_else(|| ApiError::internal("a withdrawn purpose has no version"))?
                .stamp(&mut body, w.event.status)?;
            Ok(body)
        })
        .collect()
}
