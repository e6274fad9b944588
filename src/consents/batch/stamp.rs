//! The events of a batch stamped once every lock is held (ids and times in arrival order), and
//! each change settled with the state its flag was left in.

use super::change::{stale_version, ChangeOutcome, PendingChange};
use super::known::Known;
use crate::consents::confirmation::Token;
use crate::consents::model::{event_evidence_at, EventRow};
use crate::consents::state::FlagRow;
use crate::db::schema::consent_events;
use crate::domain::consent::Decision;
use crate::domain::consent_state::{expires_at, Confirmation, ConsentState};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::subjects::standing::Standing;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Insertable)]
#[diesel(table_name = consent_events)]
pub(super) struct NewEvent<'a> {
    pub(super) id: EventId,
    pub(super) subject_id: SubjectId,
    pub(super) purpose_id: &'a str,
    pub(super) status: &'a str,
    pub(super) method: &'a str,
    pub(super) evidence_enc: Option<Vec<u8>>,
    pub(super) actor: &'a str,
    pub(super) at: DateTime<Utc>,
    pub(super) request_id: &'a str,
    pub(super) state: Option<&'static str>,
    pub(super) purpose_version: i32,
    pub(super) guardian_subject_id: Option<SubjectId>,
}

/// The events of a batch, stamped once every lock is held, and what became of each change.
pub(super) struct Stamped<'a> {
    /// One per change, in arrival order.
    pub(super) slots: Vec<Slot>,
    /// The newest event of each flag: what the flag points at.
    pub(super) stamps: HashMap<(SubjectId, &'a str), Stamp>,
    pub(super) events: Vec<NewEvent<'a>>,
    /// The events in clear, as answered (parallel to `events`).
    pub(super) rows: Vec<EventRow>,
    pub(super) outcomes: Vec<ChangeOutcome>,
}

/// A change settled before its flag was written, or the index of its event.
pub(super) enum Slot {
    Done(Box<ChangeOutcome>),
    Event(usize),
}

/// The newest event of a flag, with what a grant of it sets.
pub(super) struct Stamp {
    pub(super) event: EventId,
    pub(super) at: DateTime<Utc>,
    /// When the grant expires, if the version has a validity.
    pub(super) expires_at: Option<DateTime<Utc>>,
    /// A double opt-in's token (unless the grant turns out to be a renewal).
    pub(super) token: Option<Token>,
}

/// Gives each valid change its event id and time, in arrival order.
pub(super) fn stamp_events<'a>(
    changes: &'a [PendingChange],
    known: &Known,
) -> ApiResult<Stamped<'a>> {
    let mut stamped = Stamped {
        slots: Vec::with_capacity(changes.len()),
        stamps: HashMap::new(),
        events: Vec::new(),
        rows: Vec::new(),
        outcomes: Vec::with_capacity(changes.len()),
    };
    for change in changes {
        // A consent change is recorded whatever the subject's restriction (Art. 18 leaves
        // the person's own choices free).
        let standing = known.standings.get(&change.subject_id).copied();
        if let Err(refusal) = standing.unwrap_or(Standing::Unknown).require() {
            stamped
                .slots
                .push(Slot::Done(Box::new(ChangeOutcome::Refused(refusal))));
            continue;
        }
        let Some(rule) = known.bases.get(&change.purpose_id) else {
            stamped
                .slots
                .push(Slot::Done(Box::new(ChangeOutcome::NoPurpose)));
            continue;
        };
        if !known.valid(change) {
            let stale = stale_version(rule.version);
            stamped
                .slots
                .push(Slot::Done(Box::new(ChangeOutcome::Refused(stale))));
            continue;
        }
        let id = EventId::new();
        let at = Utc::now().trunc_subsecs(6);
        let row = *id.uuid().as_bytes();
        let evidence_enc = known.seal(
            change.subject_id,
            event_evidence_at(&row),
            change.evidence.as_deref(),
        )?;
        let granted = change.status == Decision::Granted;
        let months = rule.validity_months.and_then(|m| u32::try_from(m).ok());
        let double_opt_in =
            rule.confirmation == Confirmation::DoubleOptIn.as_str() && !change.login_confirms;
        stamped.stamps.insert(
            (change.subject_id, change.purpose_id.as_str()),
            Stamp {
                event: id,
                at,
                expires_at: months.filter(|_| granted).and_then(|m| expires_at(at, m)),
                token: (granted && double_opt_in).then(Token::new).transpose()?,
            },
        );
        stamped.slots.push(Slot::Event(stamped.events.len()));
        stamped.events.push(NewEvent {
            id,
            subject_id: change.subject_id,
            purpose_id: &change.purpose_id,
            status: change.status.as_str(),
            method: change.method.as_str(),
            evidence_enc,
            actor: &change.actor,
            at,
            request_id: &change.request_id,
            state: None,
            purpose_version: rule.version,
            guardian_subject_id: change.guardian,
        });
        stamped.rows.push(EventRow {
            id,
            subject_id: change.subject_id,
            purpose_id: change.purpose_id.clone(),
            status: change.status.as_str().to_owned(),
            method: change.method.as_str().to_owned(),
            evidence: change.evidence.clone(),
            actor: change.actor.clone(),
            at,
            request_id: change.request_id.clone(),
            state: None,
            purpose_version: rule.version,
            guardian_subject_id: change.guardian,
        });
    }
    Ok(stamped)
}

/// Gives every event the state it left its flag in and answers each change. An earlier change
/// of a flag that the same batch changed again is answered with the flag's final state.
pub(super) fn settle(
    stamped: &mut Stamped<'_>,
    flags: &HashMap<(SubjectId, String), FlagRow>,
) -> ApiResult<()> {
    for slot in std::mem::take(&mut stamped.slots) {
        let index = match slot {
            Slot::Done(outcome) => {
                stamped.outcomes.push(*outcome);
                continue;
            }
            Slot::Event(index) => index,
        };
        let event = &mut stamped.events[index];
        let key = (event.subject_id, event.purpose_id.to_owned());
        let flag = flags
            .get(&key)
            .ok_or_else(|| ApiError::internal("a changed flag was not updated"))?;
        let stamp = stamped.stamps.get(&(event.subject_id, event.purpose_id));
        let last = stamp.is_some_and(|s| s.event == event.id);
        let state = match (last, event.status == Decision::Granted.as_str()) {
            (true, _) => ConsentState::from_db(&flag.state)?,
            (false, true) => ConsentState::Given,
            (false, false) => ConsentState::Withdrawn,
        };
        event.state = Some(state.as_str());
        let mut row = stamped.rows[index].clone();
        row.state = Some(state.as_str().to_owned());
        let token = stamp
            .filter(|_| last && state == ConsentState::PendingConfirmation)
            .and_then(|s| s.token.as_ref())
            .map(|t| t.secret.clone());
        stamped.outcomes.push(ChangeOutcome::Recorded {
            event: row,
            flag: Box::new(flag.clone()),
            token,
        });
    }
    Ok(())
}
