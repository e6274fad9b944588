//! Consent changes recorded in batches by the access log's group-commit writers: every change of
//! a batch, its event and its access-log entry commit in one transaction, with a handful of
//! statements for the whole batch instead of several per change.
//!
//! Order: the upsert of the flags comes first because it is what takes their row locks (in key
//! order, so that two batches never deadlock); a concurrent change of the same flag waits there
//! until this batch commits. Only once every lock is held are the events stamped with their ids
//! and times, in arrival order. So events of one flag are ordered like their commits, and the
//! stored flag always equals its newest event; stamping before the upsert would let a batch that
//! waited overwrite a newer decision with an older-stamped one.

use super::api::{Consent, ConsentEvent};
use super::model::{event_evidence_at, flag_evidence_at, flag_row, EventRow};
use crate::access_log::group_commit::GroupOp;
use crate::access_log::{Action, NewEntry};
use crate::at_rest::{self, Cipher};
use crate::db::schema::{consent_events, consents, purposes, subject_keys, subjects};
use crate::domain::consent::{Basis, Decision, Method};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, Answer, Key};
use actix_web::http::StatusCode;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Timestamptz, Uuid as SqlUuid};
use diesel::upsert::excluded;
use std::collections::{BTreeMap, HashMap, HashSet};

pub mod op;

/// A decision waiting for its batch.
#[derive(Debug, Clone)]
pub struct PendingChange {
    pub subject_id: SubjectId,
    pub purpose_id: String,
    pub status: Decision,
    pub method: Method,
    pub evidence: Option<String>,
    pub actor: String,
    pub request_id: String,
    /// The `consent.change` entry, appended when the change is recorded.
    pub entry: NewEntry,
    /// The request's `Idempotency-Key`: its answer is stored in the batch's transaction.
    pub idempotency: Option<Key>,
}

/// What became of one change.
#[derive(Debug)]
pub enum ChangeOutcome {
    Recorded {
        basis: Basis,
        event: EventRow,
    },
    /// A retry of a request already answered: that answer, nothing recorded again.
    Replayed(Answer),
    /// A key in use or reused with another body.
    Refused(ApiError),
    NoSubject,
    /// The subject was erased at this time: 410.
    Erased(DateTime<Utc>),
    NoPurpose,
}

/// The answer to a recorded change, with the event's id as its `ETag`.
pub fn answer_of(basis: &Basis, event: EventRow) -> ApiResult<Answer> {
    let event = ConsentEvent::try_from(event)?;
    let etag = format!("\"{}\"", event.id);
    let consent = Consent {
        purpose: event.purpose,
        status: Some(event.status).into(),
        eligible: basis.eligible(Some(event.status)),
        updated_at: Some(event.at),
    };
    Ok(Answer::json(StatusCode::OK, &consent)?.etag(etag))
}

#[derive(Insertable)]
#[diesel(table_name = consents)]
struct FlagLock<'a> {
    subject_id: SubjectId,
    purpose_id: &'a str,
    status: &'a str,
    method: &'a str,
    evidence_enc: Option<Vec<u8>>,
    updated_at: DateTime<Utc>,
    updated_by: &'a str,
    last_event_id: EventId,
}

#[derive(Insertable)]
#[diesel(table_name = consent_events)]
struct NewEvent<'a> {
    id: EventId,
    subject_id: SubjectId,
    purpose_id: &'a str,
    status: &'a str,
    method: &'a str,
    evidence_enc: Option<Vec<u8>>,
    actor: &'a str,
    at: DateTime<Utc>,
    request_id: &'a str,
}

/// Records every change that names an existing subject and purpose, in the caller's transaction.
pub fn record_changes(
    conn: &mut PgConnection,
    changes: &[PendingChange],
) -> ApiResult<Vec<ChangeOutcome>> {
    let known = Known::load(conn, changes)?;
    lock_flags(conn, changes, &known)?;
    let stamped = stamp_events(changes, &known)?;
    write_events(conn, &stamped, &known)?;
    mark_active(conn, changes, &stamped)?;
    Ok(stamped.outcomes)
}

/// A consent change is activity about the person (retention counts from it): one statement for
/// the whole batch, after the flags' locks, taking the subjects' row locks in id order. The
/// withdrawals an erasure makes are not: the subject is being erased (and a retention run saves
/// the statement on every erasure).
fn mark_active(
    conn: &mut PgConnection,
    changes: &[PendingChange],
    stamped: &Stamped<'_>,
) -> ApiResult<()> {
    let erasing = Action::SubjectErase.as_str();
    if changes.iter().all(|c| c.entry.action == erasing) {
        return Ok(());
    }
    let Some(at) = stamped.stamps.values().map(|(_, at)| *at).max() else {
        return Ok(());
    };
    let mut ids: Vec<SubjectId> = stamped.stamps.keys().map(|(s, _)| *s).collect();
    ids.sort_unstable();
    ids.dedup();
    crate::subjects::model::touch_many(conn, &ids, at)?;
    Ok(())
}

/// The subjects of a batch that exist, the purposes with each one's stored basis, and the
/// wrapped data keys of the subjects whose changes carry evidence.
struct Known {
    /// The subjects that exist and are not erased.
    subjects: HashSet<SubjectId>,
    erased: HashMap<SubjectId, DateTime<Utc>>,
    bases: HashMap<String, String>,
    keys: HashMap<SubjectId, at_rest::Wrapped>,
}

impl Known {
    /// Key-share locks the subjects first (in id order), as every change about a subject does:
    /// an erasure under way makes the batch wait and then see it, and one that comes later
    /// waits for the batch (see `subjects::model::Lock`).
    fn load(conn: &mut PgConnection, changes: &[PendingChange]) -> ApiResult<Self> {
        let mut subject_ids: Vec<SubjectId> = changes.iter().map(|c| c.subject_id).collect();
        subject_ids.sort_unstable();
        subject_ids.dedup();
        let mut subjects = HashSet::new();
        let mut erased = HashMap::new();
        for (id, erased_at) in subjects::table
            .filter(subjects::id.eq_any(&subject_ids))
            .order(subjects::id)
            .select((subjects::id, subjects::erased_at))
            .for_key_share()
            .load::<(SubjectId, Option<DateTime<Utc>>)>(conn)?
        {
            if let Some(at) = erased_at {
                erased.insert(id, at);
            } else {
                subjects.insert(id);
            }
        }
        let purpose_ids: Vec<&str> = changes.iter().map(|c| c.purpose_id.as_str()).collect();
        let bases = purposes::table
            .filter(purposes::id.eq_any(&purpose_ids))
            .select((purposes::id, purposes::basis))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        // Only changes with evidence need a data key: most batches (withdrawals) need none.
        let with_evidence: Vec<SubjectId> = changes
            .iter()
            .filter(|c| c.evidence.is_some() && subjects.contains(&c.subject_id))
            .map(|c| c.subject_id)
            .collect();
        let keys = if with_evidence.is_empty() {
            HashMap::new()
        } else {
            subject_keys::table
                .filter(subject_keys::subject_id.eq_any(&with_evidence))
                .select((
                    subject_keys::subject_id,
                    (subject_keys::key_id, subject_keys::wrapped),
                ))
                .load::<(SubjectId, at_rest::Wrapped)>(conn)?
                .into_iter()
                .collect()
        };
        Ok(Self {
            subjects,
            erased,
            bases,
            keys,
        })
    }

    fn valid(&self, change: &PendingChange) -> bool {
        self.subjects.contains(&change.subject_id) && self.bases.contains_key(&change.purpose_id)
    }

    /// `evidence` sealed under the subject's key for `place`.
    fn seal(
        &self,
        subject: SubjectId,
        place: at_rest::Place<'_>,
        evidence: Option<&str>,
    ) -> ApiResult<Option<Vec<u8>>> {
        let Some(evidence) = evidence else {
            return Ok(None);
        };
        let key: Option<Cipher> = at_rest::open_subject_key(subject, self.keys.get(&subject))?;
        Ok(key.and_then(|k| k.seal_text(place, Some(evidence))))
    }
}

/// Upserts every flag the batch changes, which takes their row locks in key order (the map's
/// order), so that two batches never deadlock; the last change of each flag decides it.
fn lock_flags(conn: &mut PgConnection, changes: &[PendingChange], known: &Known) -> ApiResult<()> {
    let mut last: BTreeMap<(SubjectId, &str), &PendingChange> = BTreeMap::new();
    for change in changes.iter().filter(|c| known.valid(c)) {
        last.insert((change.subject_id, change.purpose_id.as_str()), change);
    }
    if last.is_empty() {
        return Ok(());
    }
    let provisional = Utc::now().trunc_subsecs(6);
    let locks: Vec<FlagLock<'_>> = last
        .values()
        .map(|c| {
            let row = flag_row(c.subject_id, &c.purpose_id);
            Ok(FlagLock {
                subject_id: c.subject_id,
                purpose_id: &c.purpose_id,
                status: c.status.as_str(),
                method: c.method.as_str(),
                evidence_enc: known.seal(
                    c.subject_id,
                    flag_evidence_at(&row),
                    c.evidence.as_deref(),
                )?,
                updated_at: provisional,
                updated_by: &c.actor,
                last_event_id: EventId::new(),
            })
        })
        .collect::<ApiResult<_>>()?;
    diesel::insert_into(consents::table)
        .values(&locks)
        .on_conflict((consents::subject_id, consents::purpose_id))
        .do_update()
        .set((
            consents::status.eq(excluded(consents::status)),
            consents::method.eq(excluded(consents::method)),
            consents::evidence_enc.eq(excluded(consents::evidence_enc)),
            consents::updated_by.eq(excluded(consents::updated_by)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The events of a batch, stamped once every lock is held, and what became of each change.
struct Stamped<'a> {
    outcomes: Vec<ChangeOutcome>,
    /// The newest event of each flag: what the flag points at.
    stamps: HashMap<(SubjectId, &'a str), (EventId, DateTime<Utc>)>,
    events: Vec<NewEvent<'a>>,
}

/// Gives each valid change its event id and time, in arrival order.
fn stamp_events<'a>(changes: &'a [PendingChange], known: &Known) -> ApiResult<Stamped<'a>> {
    let mut stamped = Stamped {
        outcomes: Vec::with_capacity(changes.len()),
        stamps: HashMap::new(),
        events: Vec::new(),
    };
    for change in changes {
        if !known.subjects.contains(&change.subject_id) {
            stamped
                .outcomes
                .push(match known.erased.get(&change.subject_id) {
                    Some(at) => ChangeOutcome::Erased(*at),
                    None => ChangeOutcome::NoSubject,
                });
            continue;
        }
        let Some(basis) = known.bases.get(&change.purpose_id) else {
            stamped.outcomes.push(ChangeOutcome::NoPurpose);
            continue;
        };
        let id = EventId::new();
        let at = Utc::now().trunc_subsecs(6);
        let row = *id.uuid().as_bytes();
        let evidence_enc = known.seal(
            change.subject_id,
            event_evidence_at(&row),
            change.evidence.as_deref(),
        )?;
        stamped
            .stamps
            .insert((change.subject_id, change.purpose_id.as_str()), (id, at));
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
        });
        stamped.outcomes.push(ChangeOutcome::Recorded {
            basis: Basis::from_db(basis)?,
            event: EventRow {
                id,
                subject_id: change.subject_id,
                purpose_id: change.purpose_id.clone(),
                status: change.status.as_str().to_owned(),
                method: change.method.as_str().to_owned(),
                evidence: change.evidence.clone(),
                actor: change.actor.clone(),
                at,
                request_id: change.request_id.clone(),
            },
        });
    }
    Ok(stamped)
}

/// Points every changed flag at its newest event, then appends the events and their receipts.
fn write_events(conn: &mut PgConnection, stamped: &Stamped<'_>, known: &Known) -> ApiResult<()> {
    if stamped.stamps.is_empty() {
        return Ok(());
    }
    let count = stamped.stamps.len();
    let (mut keys_s, mut keys_p) = (Vec::with_capacity(count), Vec::with_capacity(count));
    let (mut ids, mut ats) = (Vec::with_capacity(count), Vec::with_capacity(count));
    for ((subject, purpose), (id, at)) in &stamped.stamps {
        keys_s.push(*subject);
        keys_p.push((*purpose).to_owned());
        ids.push(*id);
        ats.push(*at);
    }
    diesel::sql_query(
        "UPDATE consents c SET last_event_id = v.e, updated_at = v.at \
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[]) AS v(s, p, e, at) \
         WHERE c.subject_id = v.s AND c.purpose_id = v.p",
    )
    .bind::<Array<SqlUuid>, _>(keys_s)
    .bind::<Array<Text>, _>(keys_p)
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Timestamptz>, _>(ats)
    .execute(conn)?;
    for chunk in stamped.events.chunks(5000) {
        diesel::insert_into(consent_events::table)
            .values(chunk)
            .execute(conn)?;
    }
    let receipts: Vec<crate::receipts::Event<'_>> = stamped
        .events
        .iter()
        .map(|e| crate::receipts::Event {
            id: e.id,
            subject_id: e.subject_id,
            purpose_id: e.purpose_id,
            basis: known
                .bases
                .get(e.purpose_id)
                .map_or("opt_in", String::as_str),
            status: e.status,
            method: e.method,
            at: e.at,
        })
        .collect();
    crate::receipts::record(conn, &receipts)?;
    Ok(())
}
