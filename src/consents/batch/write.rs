//! The batch's statements: the flags upserted (their row locks in key order), pointed at their
//! newest events, and the events with their receipts and confirmation tokens appended.

use super::change::PendingChange;
use super::known::Known;
use super::stamp::Stamped;
use crate::consents::model::{flag_evidence_at, flag_row};
use crate::consents::state::FlagRow;
use crate::db::schema::{consent_confirmations, consent_events, consents};
use crate::domain::consent::Decision;
use crate::domain::consent_state::ConsentState;
use crate::domain::ids::{EventId, SubjectId};
use crate::error::ApiResult;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Bytea, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::upsert::excluded;
use std::collections::{BTreeMap, HashMap};

#[derive(Insertable)]
#[diesel(table_name = consents)]
pub(super) struct FlagLock<'a> {
    pub(super) subject_id: SubjectId,
    pub(super) purpose_id: &'a str,
    pub(super) status: &'a str,
    pub(super) method: &'a str,
    pub(super) evidence_enc: Option<Vec<u8>>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) updated_by: &'a str,
    pub(super) last_event_id: EventId,
    pub(super) purpose_version: i32,
    pub(super) ever_granted: bool,
    pub(super) guardian_subject_id: Option<SubjectId>,
}

/// A grant is a renewal when the flag it replaces is a grant of the same (current) version in
/// force: `given` or `renewed`, so neither expired, pending nor invalidated.
pub(super) const RENEWED_SQL: &str = "excluded.status = 'granted' AND consents.status = 'granted' \
     AND consents.purpose_version = excluded.purpose_version \
     AND consent_state(consents.status, consents.ever_granted, consents.renewed, false, \
         consents.expires_at, consents.confirmation_expires_at, now()) IN ('given', 'renewed')";

/// Upserts every flag the batch changes, which takes their row locks in key order (the map's
/// order), so that two batches never deadlock; the last change of each flag decides it.
pub(super) fn lock_flags(
    conn: &mut PgConnection,
    changes: &[PendingChange],
    known: &Known,
) -> ApiResult<()> {
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

/// A flag as the batch left it, with its subject.
#[derive(QueryableByName)]
pub(super) struct Updated {
    #[diesel(sql_type = SqlUuid)]
    pub(super) subject_id: SubjectId,
    #[diesel(embed)]
    pub(super) flag: FlagRow,
}

/// Points every changed flag at its newest event and sets what its grant sets (a renewal or an
/// immediate grant takes effect at the event's time; a double opt-in waits 168 hours for its
/// token). Answers each flag's new state.
pub(super) fn update_flags(
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

/// Appends the events, their receipts and the confirmation tokens of pending grants.
pub(super) fn write_events(
    conn: &mut PgConnection,
    stamped: &Stamped<'_>,
    known: &Known,
) -> ApiResult<()> {
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
