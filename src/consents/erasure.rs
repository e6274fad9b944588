//! What the consents offer the erasure (`rights::erasure`): the flags still open and their
//! withdrawal, set-based, as parts of the erasure's statements, so that an erasure stays at its
//! few statements however many purposes there are. `{name}` is a parameter the erasure binds.

use crate::domain::consent::{Decision, Method};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::ApiResult;
use crate::receipts::unwritten::Withdrawal;
use crate::receipts::ReceiptKey;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::PgConnection;

/// The purposes whose flag the subject `{subject}` has not withdrawn (never set included), with
/// what their events and receipts state: a query of rows (`purpose_id`, `basis`, `description`,
/// `purpose_version`: the version in force, `state`: `withdrawn` after a grant, else `refused`).
pub const OPEN_FLAGS: &str =
    "SELECT p.id AS purpose_id, p.basis, p.description_en AS description, \
       p.current_version AS purpose_version, \
       CASE WHEN c.ever_granted THEN 'withdrawn' ELSE 'refused' END AS state \
     FROM purposes p LEFT JOIN consents c ON c.purpose_id = p.id AND c.subject_id = {subject} \
     WHERE c.status IS DISTINCT FROM 'withdrawn'";

/// Every open flag withdrawn (of the subjects `{event_subjects}`, one per event) with its event (method `api`, no evidence, by
/// `{actor}` under `{request_id}`, bound to the version in force and with the state it leaves),
/// exactly as a change through the consent endpoint records it: data-modifying CTEs over the
/// arrays `{purposes}`, `{events}`, `{ats}`, `{versions}` and `{states}` of [`Withdrawals`].
/// The flags point at events inserted by the same statement: foreign keys are checked at its end.
pub const WITHDRAW_ALL: &str =
    "v AS (SELECT * FROM unnest({event_subjects}::uuid[], {purposes}::text[], {events}::uuid[], \
             {ats}::timestamptz[], {versions}::int4[], {states}::text[]) AS v(s, p, e, at, pv, st)), \
     f AS (INSERT INTO consents (subject_id, purpose_id, status, method, evidence_enc, \
             updated_at, updated_by, last_event_id, purpose_version) \
           SELECT s, p, 'withdrawn', 'api', NULL, at, {actor}, e, pv FROM v \
           ON CONFLICT (subject_id, purpose_id) DO UPDATE SET status = excluded.status, \
             method = excluded.method, evidence_enc = NULL, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by, last_event_id = excluded.last_event_id), \
     ev AS (INSERT INTO consent_events (id, subject_id, purpose_id, status, method, \
              evidence_enc, actor, at, request_id, state, purpose_version) \
            SELECT e, s, p, 'withdrawn', 'api', NULL, {actor}, at, {request_id}, st, pv \
            FROM v)";

/// A purpose to withdraw, with what its receipt states.
pub struct OpenPurpose {
    /// The purpose.
    pub id: String,
    /// Its legal basis.
    pub basis: String,
    /// Its description, as the receipt states it.
    pub description: String,
    /// The version in force, which the withdrawal is bound to.
    pub version: i32,
    /// The state the withdrawal leaves: `withdrawn`, or `refused` when never granted.
    pub state: String,
}

/// The withdrawals of an erasure, stamped and their receipts signed: what [`WITHDRAW_ALL`] and
/// `receipts::ERASURE_RECEIPTS` write.
pub struct Withdrawals {
    /// Each withdrawal's subject.
    pub subjects: Vec<SubjectId>,
    /// The purposes withdrawn.
    pub purposes: Vec<String>,
    /// Each one's event.
    pub events: Vec<EventId>,
    /// Each event's time.
    pub ats: Vec<DateTime<Utc>>,
    /// Each event's purpose version.
    pub versions: Vec<i32>,
    /// Each event's state.
    pub states: Vec<String>,
    /// Each event's signed receipt.
    pub receipts: Vec<String>,
    /// The key that signed them.
    pub key: &'static ReceiptKey,
}

impl Withdrawals {
    /// No withdrawal yet.
    pub fn new(key: &'static ReceiptKey) -> Self {
        Self {
            subjects: Vec::new(),
            purposes: Vec::new(),
            events: Vec::new(),
            ats: Vec::new(),
            versions: Vec::new(),
            states: Vec::new(),
            receipts: Vec::new(),
            key,
        }
    }

    /// Stamps a withdrawal of every open purpose of the subject; returns each one as its
    /// receipt states it, to sign now or once written.
    pub fn stamp<'a>(
        &mut self,
        subject_id: SubjectId,
        open: &'a [OpenPurpose],
    ) -> Vec<Withdrawal<'a>> {
        let (withdrawn, api) = (Decision::Withdrawn.as_str(), Method::Api.as_str());
        open.iter()
            .map(|purpose| {
                let w = Withdrawal {
                    event: crate::receipts::Event {
                        id: EventId::new(),
                        subject_id,
                        purpose_id: &purpose.id,
                        basis: &purpose.basis,
                        status: withdrawn,
                        method: api,
                        at: Utc::now().trunc_subsecs(6),
                    },
                    description: &purpose.description,
                    purpose_version: purpose.version,
                    state: &purpose.state,
                };
                self.subjects.push(subject_id);
                self.purposes.push(purpose.id.clone());
                self.events.push(w.event.id);
                self.ats.push(w.event.at);
                self.versions.push(purpose.version);
                self.states.push(purpose.state.clone());
                w
            })
            .collect()
    }
}

/// Stamps a withdrawal of every open purpose and signs its receipt, from what is in force
/// before the erasure's statement (the third parties included, whose authorizations it revokes).
pub fn withdrawals(
    conn: &mut PgConnection,
    subject_id: SubjectId,
    open: &[OpenPurpose],
) -> ApiResult<Withdrawals> {
    let mut all = Withdrawals::new(crate::receipts::key()?);
    let unwritten = all.stamp(subject_id, open);
    all.receipts = crate::receipts::unwritten::sign(conn, &unwritten)?;
    Ok(all)
}
