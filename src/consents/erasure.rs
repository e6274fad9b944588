//! What the consents offer the erasure (`rights::erasure`): the flags still open and their
//! withdrawal, set-based, as parts of the erasure's statements, so that an erasure stays at its
//! few statements however many purposes there are. `{name}` is a parameter the erasure binds.

use crate::domain::consent::{Decision, Method};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::ApiResult;
use crate::receipts::ReceiptKey;
use chrono::{DateTime, SubsecRound, Utc};

/// The purposes whose flag the subject `{subject}` has not withdrawn (never set included), with
/// what a receipt states: a query of rows (`purpose_id`, `basis`, `description`).
pub const OPEN_FLAGS: &str = "SELECT p.id AS purpose_id, p.basis, p.description_en AS description \
     FROM purposes p LEFT JOIN consents c ON c.purpose_id = p.id AND c.subject_id = {subject} \
     WHERE c.status IS DISTINCT FROM 'withdrawn'";

/// Every open flag of `{subject}` withdrawn with its event (method `api`, no evidence, by
/// `{actor}` under `{request_id}`), exactly as a change through the consent endpoint records it:
/// data-modifying CTEs over the arrays `{purposes}`, `{events}` and `{ats}` of [`Withdrawals`].
/// The flags point at events inserted by the same statement: foreign keys are checked at its end.
pub const WITHDRAW_ALL: &str =
    "v AS (SELECT * FROM unnest({purposes}::text[], {events}::uuid[], {ats}::timestamptz[]) \
           AS v(p, e, at)), \
     f AS (INSERT INTO consents (subject_id, purpose_id, status, method, evidence_enc, \
             updated_at, updated_by, last_event_id) \
           SELECT {subject}, p, 'withdrawn', 'api', NULL, at, {actor}, e FROM v \
           ON CONFLICT (subject_id, purpose_id) DO UPDATE SET status = excluded.status, \
             method = excluded.method, evidence_enc = NULL, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by, last_event_id = excluded.last_event_id), \
     ev AS (INSERT INTO consent_events (id, subject_id, purpose_id, status, method, \
              evidence_enc, actor, at, request_id) \
            SELECT e, {subject}, p, 'withdrawn', 'api', NULL, {actor}, at, {request_id} FROM v)";

/// A purpose to withdraw, with what its receipt states.
pub struct OpenPurpose {
    /// The purpose.
    pub id: String,
    /// Its legal basis.
    pub basis: String,
    /// Its description, as the receipt states it.
    pub description: String,
}

/// The withdrawals of an erasure, stamped and their receipts signed: what [`WITHDRAW_ALL`] and
/// `receipts::ERASURE_RECEIPTS` write.
pub struct Withdrawals {
    /// The purposes withdrawn.
    pub purposes: Vec<String>,
    /// Each one's event.
    pub events: Vec<EventId>,
    /// Each event's time.
    pub ats: Vec<DateTime<Utc>>,
    /// Each event's signed receipt.
    pub receipts: Vec<String>,
    /// The key that signed them.
    pub key: &'static ReceiptKey,
}

/// Stamps a withdrawal of every open purpose and signs its receipt.
pub fn withdrawals(subject_id: SubjectId, open: &[OpenPurpose]) -> ApiResult<Withdrawals> {
    let key = crate::receipts::key()?;
    let (withdrawn, api) = (Decision::Withdrawn.as_str(), Method::Api.as_str());
    let mut all = Withdrawals {
        purposes: Vec::with_capacity(open.len()),
        events: Vec::with_capacity(open.len()),
        ats: Vec::with_capacity(open.len()),
        receipts: Vec::with_capacity(open.len()),
        key,
    };
    for purpose in open {
        let event = crate::receipts::Event {
            id: EventId::new(),
            subject_id,
            purpose_id: &purpose.id,
            basis: &purpose.basis,
            status: withdrawn,
            method: api,
            at: Utc::now().trunc_subsecs(6),
        };
        let payload = crate::receipts::payload(&event, &purpose.description, None);
        all.receipts.push(key.sign(&payload));
        all.purposes.push(purpose.id.clone());
        all.events.push(event.id);
        all.ats.push(event.at);
    }
    Ok(all)
}
