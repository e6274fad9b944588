//! Erasure (Art. 17) as one function that runs inside the caller's transaction, so that the
//! endpoint and a retention run erase exactly alike: the subject's row locked, every consent
//! withdrawn (with its event), every authorization revoked, the personal values destroyed,
//! the erasure recorded and its `subject.erase` entry written, all or nothing.

use super::model::Lock;
use super::standing::{self, Standing};
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Actor;
use crate::domain::consent::{Decision, Method};
use crate::domain::ids::{EventId, HoldId, PrivacyRequestId, SubjectId};
use crate::domain::privacy_request::RequestKind;
use crate::domain::text::LongText;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::requests::citation::{self, Citation};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;

/// What an authorization revoked by an erasure gives as its reason (the erasure's own reason
/// stays in the erasure record).
pub const REVOKED_BY_ERASURE: &str = "the subject was erased";

/// One erasure to carry out.
#[derive(Debug, Clone)]
pub struct EraseCommand {
    /// The subject to erase.
    pub subject_id: SubjectId,
    /// Why, as given: checked here (1 to 500 characters, no hidden text).
    pub reason: String,
    /// The erasure request this answers: it must exist, be an erasure request of this subject
    /// and be open.
    pub privacy_request_id: Option<PrivacyRequestId>,
    /// `REQUIRE_VERIFIED_REQUESTS`: the request it answers must be verified.
    pub require_verified: bool,
    /// The `subject.erase` entry; its actor and request id also sign the consent events.
    pub entry: NewEntry,
}

impl EraseCommand {
    /// An erasure done by the service itself (a retention run: actor `system:retention`).
    pub fn by_system(subject_id: SubjectId, actor: &str, request_id: &str, reason: &str) -> Self {
        let actor = Actor::new(actor, &[], None);
        Self {
            subject_id,
            reason: reason.to_owned(),
            privacy_request_id: None,
            require_verified: false,
            entry: NewEntry::for_actor(
                &actor,
                request_id,
                None,
                Action::SubjectErase,
                Some(subject_id.uuid()),
                Outcome::Allowed,
            ),
        }
    }
}

/// The answer of an erasure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Erased {
    /// The erased subject's id.
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: SubjectId,
    /// When it was erased.
    pub erased_at: DateTime<Utc>,
}

/// Erases the subject in the caller's transaction: 404 when there is no such subject, 410 when
/// it is already erased, 400 naming every bad field (`reason`, `privacy_request_id`), 409
/// `subject-on-hold` while an active hold covers it, 409 `request-closed` when the request it
/// answers is closed, 409 `request-unverified` when it is not verified and
/// `REQUIRE_VERIFIED_REQUESTS` is set. On any error nothing is changed (the caller's transaction rolls back).
pub fn erase(conn: &mut PgConnection, command: &EraseCommand) -> ApiResult<Erased> {
    // Bad input is a 400 whatever the subject's state, so it is checked before the 404 / 410.
    // The request row it share-locks is never locked after a subject row elsewhere.
    let reason = checked(conn, command)?;
    // First, before any other row of the subject: see `model::Lock`.
    Standing::read(conn, command.subject_id, Lock::Update)?.require()?;
    erase_checked(conn, command, reason)
}

/// `erase` for a caller that has already locked the subject's row `FOR UPDATE` in this
/// transaction and seen it exist and not erased (a retention run, whose lock also checks that the
/// subject is still due): the same erasure, one statement fewer.
pub fn erase_locked(conn: &mut PgConnection, command: &EraseCommand) -> ApiResult<Erased> {
    let reason = checked(conn, command)?;
    erase_checked(conn, command, reason)
}

fn erase_checked(
    conn: &mut PgConnection,
    command: &EraseCommand,
    reason: LongText,
) -> ApiResult<Erased> {
    let id = command.subject_id;
    // After the lock, not in its statement: a hold placed while the lock was awaited committed
    // after that statement's snapshot, and only a later statement sees it.
    let open = open_flags(conn, id)?;
    standing::not_held(open.hold)?;
    let now = record(conn, command, &reason, &open.purposes)?;
    forget_values(conn, id, now)?;
    access_log::record(conn, std::slice::from_ref(&command.entry))?;
    // Art. 19: one `subject.erased` notice per recipient that received the subject's data (the
    // withdrawals queued none of their own).
    crate::notices::queue(
        conn,
        &crate::notices::Event::plain(id, crate::domain::notice::NoticeType::Erased)
            .for_request(command.privacy_request_id),
    )?;
    Ok(Erased {
        subject_id: id,
        erased_at: now,
    })
}

/// Destroys the subject's personal values and marks it erased at `at`: the subject's data key is
/// destroyed (`at_rest::shred_subject`), so every value it sealed, in the subject row, the
/// history tables and stored answers, can no longer be read; the row's ciphertexts and blind
/// indexes are emptied too (which frees the personal code for a new record). The one place that
/// destroys values.
pub fn forget_values(conn: &mut PgConnection, id: SubjectId, at: DateTime<Utc>) -> ApiResult<()> {
    crate::at_rest::shred_subject_at(conn, id, Some(at))?;
    Ok(())
}

/// The reason, and the privacy request checked: one 400 naming every bad field, or 409 for a
/// closed request.
fn checked(conn: &mut PgConnection, command: &EraseCommand) -> ApiResult<LongText> {
    let mut errors = Vec::new();
    let reason = LongText::parse(&command.reason)
        .map_err(|message| errors.push(FieldError::new("reason", message)))
        .ok();
    if let Some(request) = command.privacy_request_id {
        let (kind, subject) = (RequestKind::Erasure, command.subject_id);
        match citation::judge(conn, request, kind, subject, command.require_verified)? {
            Citation::Valid => {}
            Citation::Invalid(message) => {
                errors.push(FieldError::new("privacy_request_id", message));
            }
            Citation::Conflict(conflict) if errors.is_empty() => return Err(conflict),
            Citation::Conflict(_) => {}
        }
    }
    match reason {
        Some(reason) if errors.is_empty() => Ok(reason),
        _ => Err(ApiError::invalid(errors)),
    }
}

/// What the erasure finds once the subject is locked: the active hold covering it, if any, and
/// every purpose whose flag is not already `withdrawn`.
struct Open {
    hold: Option<HoldId>,
    purposes: Vec<OpenPurpose>,
}

/// A purpose to withdraw, with what its receipt states.
#[derive(QueryableByName)]
struct OpenRow {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    hold: Option<HoldId>,
    #[diesel(sql_type = Nullable<Text>)]
    purpose_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    basis: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    description: Option<String>,
}

struct OpenPurpose {
    id: String,
    basis: String,
    description: String,
}

/// One statement: the hold (the same rule as `holds::active_hold`) and the open flags; one row
/// with no purpose when nothing is left to withdraw. The consent batch is not needed: the
/// subject's row lock keeps every other change of its flags waiting.
fn open_flags(conn: &mut PgConnection, id: SubjectId) -> ApiResult<Open> {
    let rows: Vec<OpenRow> = diesel::sql_query(
        "SELECT (SELECT h.id FROM holds h WHERE h.subject_id = $1 AND h.released_at IS NULL \
                 ORDER BY h.id LIMIT 1) AS hold, \
                p.id AS purpose_id, p.basis, p.description_en AS description \
         FROM (SELECT 1) AS one LEFT JOIN ( \
           purposes p LEFT JOIN consents c ON c.purpose_id = p.id AND c.subject_id = $1 \
         ) ON c.status IS DISTINCT FROM 'withdrawn' \
         ORDER BY p.id",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    let hold = rows.first().and_then(|r| r.hold);
    let purposes = rows
        .into_iter()
        .filter_map(|r| {
            Some(OpenPurpose {
                id: r.purpose_id?,
                basis: r.basis?,
                description: r.description?,
            })
        })
        .collect();
    Ok(Open { hold, purposes })
}

/// One statement for the records of the erasure: every open flag withdrawn with its event
/// (method `api`, no evidence, by the erasure's actor and request) and signed receipt, exactly as
/// a change through the consent endpoint records it; every authorization revoked; the erasure
/// row. Returns the erasure's time, after every event's.
///
/// Notices (Art. 19): an erasure queues one `subject.erased` notice per recipient and no
/// `consent.withdrawn` ones.
fn record(
    conn: &mut PgConnection,
    command: &EraseCommand,
    reason: &LongText,
    open: &[OpenPurpose],
) -> ApiResult<DateTime<Utc>> {
    let id = command.subject_id;
    let key = crate::receipts::key()?;
    let (withdrawn, api) = (Decision::Withdrawn.as_str(), Method::Api.as_str());
    let (mut purposes, mut events, mut ats, mut receipts) = (vec![], vec![], vec![], vec![]);
    for purpose in open {
        let event = crate::receipts::Event {
            id: EventId::new(),
            subject_id: id,
            purpose_id: &purpose.id,
            basis: &purpose.basis,
            status: withdrawn,
            method: api,
            at: Utc::now().trunc_subsecs(6),
        };
        receipts.push(key.sign(&crate::receipts::payload(
            &event,
            &purpose.description,
            None,
        )));
        purposes.push(purpose.id.as_str());
        events.push(event.id);
        ats.push(event.at);
    }
    let now = Utc::now().trunc_subsecs(6);
    // The flags point at events inserted by the same statement: foreign keys are checked at its
    // end. The key is listed among the published ones the first time it signs.
    diesel::sql_query(
        "WITH v AS (SELECT * FROM unnest($2::text[], $3::uuid[], $4::timestamptz[], $5::text[]) \
                    AS v(p, e, at, jws)), \
         f AS (INSERT INTO consents (subject_id, purpose_id, status, method, evidence_enc, \
                 updated_at, updated_by, last_event_id) \
               SELECT $1, p, 'withdrawn', 'api', NULL, at, $6, e FROM v \
               ON CONFLICT (subject_id, purpose_id) DO UPDATE SET status = excluded.status, \
                 method = excluded.method, evidence_enc = NULL, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by, last_event_id = excluded.last_event_id), \
         ev AS (INSERT INTO consent_events (id, subject_id, purpose_id, status, method, \
                  evidence_enc, actor, at, request_id) \
                SELECT e, $1, p, 'withdrawn', 'api', NULL, $6, at, $7 FROM v), \
         k AS (INSERT INTO receipt_keys (kid, x) SELECT $8, $9 WHERE cardinality($2) > 0 \
               ON CONFLICT DO NOTHING), \
         r AS (INSERT INTO consent_receipts (event_id, kid, jws) SELECT e, $8, jws FROM v \
               ON CONFLICT (event_id) DO NOTHING), \
         a AS (UPDATE disclosure_authorizations SET revoked_at = $10, revoked_reason = $11, \
                 revoked_by = $6 \
               WHERE subject_id = $1 AND revoked_at IS NULL) \
         INSERT INTO erasures (subject_id, erased_at, actor, reason, privacy_request_id, \
           request_id) VALUES ($1, $10, $6, $12, $13, $7)",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Array<Text>, _>(purposes)
    .bind::<Array<SqlUuid>, _>(events)
    .bind::<Array<Timestamptz>, _>(ats)
    .bind::<Array<Text>, _>(receipts)
    .bind::<Text, _>(&command.entry.actor)
    .bind::<Text, _>(&command.entry.request_id)
    .bind::<Text, _>(&key.kid)
    .bind::<Text, _>(&key.x)
    .bind::<Timestamptz, _>(now)
    .bind::<Text, _>(REVOKED_BY_ERASURE)
    .bind::<Text, _>(reason.as_str())
    .bind::<Nullable<SqlUuid>, _>(command.privacy_request_id)
    .execute(conn)?;
    Ok(now)
}
