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

use super::api::Consent;
use super::confirmation::Token;
use super::model::{event_evidence_at, flag_evidence_at, flag_row, EventRow};
use super::state::FlagRow;
use crate::access_log::group_commit::GroupOp;
use crate::access_log::{Action, NewEntry};
use crate::at_rest::{self, Cipher};
use crate::db::schema::{
    consent_confirmations, consent_events, consents, purpose_versions, purposes, subject_keys,
    subjects,
};
use crate::domain::consent::{Decision, Method};
use crate::domain::consent_state::{expires_at, Confirmation, ConsentState};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, Answer, Key};
use crate::subjects::standing::Standing;
use actix_web::http::StatusCode;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Bytea, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
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
    /// The purpose version the caller named; `None`: the one in force.
    pub purpose_version: Option<i32>,
    /// The guardian who consented for a child (checked before the change was submitted).
    pub guardian: Option<SubjectId>,
    pub actor: String,
    pub request_id: String,
    /// The `consent.change` entry, appended when the change is recorded.
    pub entry: NewEntry,
    /// The `consent.change` entry about the guardian, appended with it.
    pub guardian_entry: Option<NewEntry>,
    /// The request's `Idempotency-Key`: its answer is stored in the batch's transaction.
    pub idempotency: Option<Key>,
}

/// What became of one change.
#[derive(Debug)]
pub enum ChangeOutcome {
    Recorded {
        event: EventRow,
        /// The flag as the batch left it.
        flag: Box<FlagRow>,
        /// A double opt-in's one-time token, answered once.
        token: Option<String>,
    },
    /// A retry of a request already answered: that answer, nothing recorded again.
    Replayed(Answer),
    /// A key in use or reused with another body, or a subject the standing rule refuses (404,
    /// 410).
    Refused(ApiError),
    NoPurpose,
}

/// The answer to a recorded change, with the event's id as its `ETag`; `token` only in the
/// first answer (a stored answer, replayed, carries none).
pub fn answer_of(event: &EventRow, flag: &FlagRow, token: Option<&str>) -> ApiResult<Answer> {
    let etag = format!("\"{}\"", event.id);
    let answer = Consent {
        confirmation_token: token.map(str::to_owned),
        ..Consent::try_from(flag.clone())?
    };
    Ok(Answer::json(StatusCode::OK, &answer)?.etag(etag))
}

/// 409 `purpose-version-stale`.
pub fn stale_version(current: i32) -> ApiError {
    ApiError::client(
        StatusCode::CONFLICT,
        "purpose-version-stale",
        format!("the purpose's current version is {current}; show the person that text"),
    )
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
    purpose_version: i32,
    ever_granted: bool,
    guardian_subject_id: Option<SubjectId>,
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
    state: Option<&'static str>,
    purpose_version: i32,
    guardian_subject_id: Option<SubjectId>,
}

/// Records every change that names an existing subject and purpose, in the caller's transaction.
pub fn record_changes(
    conn: &mut PgConnection,
    changes: &[PendingChange],
) -> ApiResult<Vec<ChangeOutcome>> {
    let known = Known::load(conn, changes)?;
    lock_flags(conn, changes, &known)?;
    let mut stamped = stamp_events(changes, &known)?;
    let flags = update_flags(conn, &stamped)?;
    settle(&mut stamped, &flags)?;
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
    let Some(at) = stamped.stamps.values().map(|s| s.at).max() else {
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
    /// Where each subject of the batch that has a row stands.
    standings: HashMap<SubjectId, Standing>,
    bases: HashMap<String, Rule>,
    keys: HashMap<SubjectId, at_rest::Wrapped>,
}

/// Whether the batch may record a change about the subject: it is there and not erased.
fn present(standings: &HashMap<SubjectId, Standing>, id: SubjectId) -> bool {
    standings
        .get(&id)
        .copied()
        .is_some_and(Standing::is_present)
}

/// What rules a grant of a purpose made now: its version in force and that version's settings.
#[derive(Queryable)]
struct Rule {
    basis: String,
    version: i32,
    validity_months: Option<i32>,
    confirmation: String,
}

impl Known {
    /// Key-share locks the subjects first (in id order), as every change about a subject does:
    /// an erasure under way makes the batch wait and then see it, and one that comes later
    /// waits for the batch (see `subjects::model::Lock`).
    fn load(conn: &mut PgConnection, changes: &[PendingChange]) -> ApiResult<Self> {
        let mut subject_ids: Vec<SubjectId> = changes.iter().map(|c| c.subject_id).collect();
        subject_ids.sort_unstable();
        subject_ids.dedup();
        let mut standings = HashMap::new();
        for (id, erased_at, ground) in subjects::table
            .filter(subjects::id.eq_any(&subject_ids))
            .order(subjects::id)
            .select((
                subjects::id,
                subjects::erased_at,
                subjects::restriction_ground,
            ))
            .for_key_share()
            .load::<(SubjectId, Option<DateTime<Utc>>, Option<String>)>(conn)?
        {
            standings.insert(id, Standing::of(Some((erased_at, ground.as_deref())))?);
        }
        let purpose_ids: Vec<&str> = changes.iter().map(|c| c.purpose_id.as_str()).collect();
        let bases = purposes::table
            .inner_join(
                purpose_versions::table.on(purpose_versions::purpose_id
                    .eq(purposes::id)
                    .and(purpose_versions::version.eq(purposes::current_version))),
            )
            .filter(purposes::id.eq_any(&purpose_ids))
            .select((
                purposes::id,
                (
                    purposes::basis,
                    purposes::current_version,
                    purpose_versions::validity_months,
                    purpose_versions::confirmation,
                ),
            ))
            .load::<(String, Rule)>(conn)?
            .into_iter()
            .collect();
        // Only changes with evidence need a data key: most batches (withdrawals) need none.
        let with_evidence: Vec<SubjectId> = changes
            .iter()
            .filter(|c| c.evidence.is_some() && present(&standings, c.subject_id))
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
            standings,
            bases,
            keys,
        })
    }

    /// Whether the change is recorded: its subject and purpose exist, and it names no stale
    /// version.
    fn valid(&self, change: &PendingChange) -> bool {
        present(&self.standings, change.subject_id)
            && self
                .bases
                .get(&change.purpose_id)
                .is_some_and(|rule| change.purpose_version.is_none_or(|v| v == rule.version))
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

/// A grant is a renewal when the flag it replaces is a grant of the same (current) version in
/// force: `given` or `renewed`, so neither expired, pending nor invalidated.
const RENEWED_SQL: &str = "excluded.status = 'granted' AND consents.status = 'granted' \
     AND consents.purpose_version = excluded.purpose_version \
     AND consent_state(consents.status, consents.ever_granted, consents.renewed, false, \
         consents.expires_at, consents.confirmation_expires_at, now()) IN ('given', 'renewed')";

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
                purpose_version: known.bases.get(&c.purpose_id).map_or(1, |r| r.version),
                ever_granted: c.status == Decision::Granted,
                guardian_subject_id: c.guardian,
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
            // Read from the row before this change: the lock is held here.
            consents::renewed.eq(sql::<Bool>(RENEWED_SQL)),
            consents::purpose_version.eq(sql::<Int4>(
                "CASE WHEN excluded.status = 'granted' THEN excluded.purpose_version \
                 ELSE consents.purpose_version END",
            )),
            consents::ever_granted.eq(sql::<Bool>(
                "consents.ever_granted OR excluded.ever_granted",
            )),
            consents::guardian_subject_id.eq(sql::<Nullable<SqlUuid>>(
                "CASE WHEN excluded.status = 'granted' THEN excluded.guardian_subject_id \
                 ELSE consents.guardian_subject_id END",
            )),
        ))
        .execute(conn)?;
    Ok(())
}

/// The events of a batch, stamped once every lock is held, and what became of each change.
struct Stamped<'a> {
    /// One per change, in arrival order.
    slots: Vec<Slot>,
    /// The newest event of each flag: what the flag points at.
    stamps: HashMap<(SubjectId, &'a str), Stamp>,
    events: Vec<NewEvent<'a>>,
    /// The events in clear, as answered (parallel to `events`).
    rows: Vec<EventRow>,
    outcomes: Vec<ChangeOutcome>,
}

/// A change settled before its flag was written, or the index of its event.
enum Slot {
    Done(Box<ChangeOutcome>),
    Event(usize),
}

/// The newest event of a flag, with what a grant of it sets.
struct Stamp {
    event: EventId,
    at: DateTime<Utc>,
    /// When the grant expires, if the version has a validity.
    expires_at: Option<DateTime<Utc>>,
    /// A double opt-in's token (unless the grant turns out to be a renewal).
    token: Option<Token>,
}

/// Gives each valid change its event id and time, in arrival order.
fn stamp_events<'a>(changes: &'a [PendingChange], known: &Known) -> ApiResult<Stamped<'a>> {
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
        let double_opt_in = rule.confirmation == Confirmation::DoubleOptIn.as_str();
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

/// A flag as the batch left it, with its subject.
#[derive(QueryableByName)]
struct Updated {
    #[diesel(sql_type = SqlUuid)]
    subject_id: SubjectId,
    #[diesel(embed)]
    flag: FlagRow,
}

/// Points every changed flag at its newest event and sets what its grant sets (a renewal or an
/// immediate grant takes effect at the event's time; a double opt-in waits 168 hours for its
/// token). Answers each flag's new state.
fn update_flags(
    conn: &mut PgConnection,
    stamped: &Stamped<'_>,
) -> ApiResult<HashMap<(SubjectId, String), FlagRow>> {
    if stamped.stamps.is_empty() {
        return Ok(HashMap::new());
    }
    let count = stamped.stamps.len();
    let (mut keys_s, mut keys_p) = (Vec::with_capacity(count), Vec::with_capacity(count));
    let (mut ids, mut ats) = (Vec::with_capacity(count), Vec::with_capacity(count));
    let (mut expiries, mut hashes) = (Vec::with_capacity(count), Vec::with_capacity(count));
    for ((subject, purpose), stamp) in &stamped.stamps {
        keys_s.push(*subject);
        keys_p.push((*purpose).to_owned());
        ids.push(stamp.event);
        ats.push(stamp.at);
        expiries.push(stamp.expires_at);
        hashes.push(stamp.token.as_ref().map(|t| t.hash.to_vec()));
    }
    let rows: Vec<Updated> = diesel::sql_query(
        "UPDATE consents c SET last_event_id = v.e, updated_at = v.at, \
           given_at = CASE WHEN c.status = 'granted' AND (c.renewed OR v.h IS NULL) THEN v.at END, \
           expires_at = CASE WHEN c.status = 'granted' AND (c.renewed OR v.h IS NULL) THEN v.x END, \
           confirmation_expires_at = CASE WHEN c.status = 'granted' AND NOT c.renewed \
             AND v.h IS NOT NULL THEN v.at + interval '168 hours' END, \
           confirmation_sha256 = CASE WHEN c.status = 'granted' AND NOT c.renewed THEN v.h END \
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], \
                     $6::bytea[]) AS v(s, p, e, at, x, h), purposes p \
         WHERE c.subject_id = v.s AND c.purpose_id = v.p AND p.id = v.p \
         RETURNING c.subject_id, p.id AS purpose, p.basis, c.status, \
           consent_state(c.status, c.ever_granted, c.renewed, false, c.expires_at, \
             c.confirmation_expires_at, v.at) AS state, \
           c.purpose_version, c.given_at, c.expires_at, c.confirmation_expires_at, \
           c.guardian_subject_id, c.updated_at",
    )
    .bind::<Array<SqlUuid>, _>(keys_s)
    .bind::<Array<Text>, _>(keys_p)
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Timestamptz>, _>(ats)
    .bind::<Array<Nullable<Timestamptz>>, _>(expiries)
    .bind::<Array<Nullable<Bytea>>, _>(hashes)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|u| ((u.subject_id, u.flag.purpose.clone()), u.flag))
        .collect())
}

/// Gives every event the state it left its flag in and answers each change. An earlier change
/// of a flag that the same batch changed again is answered with the flag's final state.
fn settle(
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

/// Appends the events, their receipts and the confirmation tokens of pending grants.
fn write_events(conn: &mut PgConnection, stamped: &Stamped<'_>, known: &Known) -> ApiResult<()> {
    if stamped.events.is_empty() {
        return Ok(());
    }
    for chunk in stamped.events.chunks(5000) {
        diesel::insert_into(consent_events::table)
            .values(chunk)
            .execute(conn)?;
    }
    let pending: Vec<_> = stamped
        .events
        .iter()
        .filter(|e| e.state == Some(ConsentState::PendingConfirmation.as_str()))
        .filter_map(|e| {
            let stamp = stamped.stamps.get(&(e.subject_id, e.purpose_id))?;
            let token = stamp.token.as_ref().filter(|_| stamp.event == e.id)?;
            Some((
                consent_confirmations::token_sha256.eq(token.hash.to_vec()),
                consent_confirmations::subject_id.eq(e.subject_id),
                consent_confirmations::purpose_id.eq(e.purpose_id),
                consent_confirmations::created_at.eq(e.at),
            ))
        })
        .collect();
    if !pending.is_empty() {
        diesel::insert_into(consent_confirmations::table)
            .values(pending)
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
                .map_or("opt_in", |r| r.basis.as_str()),
            status: e.status,
            method: e.method,
            at: e.at,
        })
        .collect();
    crate::receipts::record(conn, &receipts)?;
    Ok(())
}
