//! Erasure (Art. 17) as one function that runs inside the caller's transaction, so that the
//! endpoint and a retention run erase exactly alike: the subject's row locked, every consent
//! withdrawn (with its event), every authorization revoked, the personal values destroyed,
//! the erasure recorded and its `subject.erase` entry written, all or nothing.
//!
//! Each resource keeps the SQL of its own tables and offers the set-based part the erasure needs
//! (`consents::erasure`, `receipts::ERASURE_RECEIPTS`, `disclosures::REVOKE_ALL`,
//! `holds::model::ACTIVE_HOLD`); the erasure composes them into its two statements of its own (the
//! read of what is open, the records), whose `{name}` parameters it numbers and binds.

use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Actor;
use crate::consents::erasure::{self as consents, OpenPurpose};
use crate::domain::ids::{HoldId, PrivacyRequestId, SubjectId};
use crate::domain::privacy_request::RequestKind;
use crate::domain::text::LongText;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::requests::citation::{self, Citation};
use crate::subjects::model::Lock;
use crate::subjects::standing::{self, Standing};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use std::sync::LazyLock;
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

/// A row of the read: the hold, and a purpose to withdraw (none when nothing is left).
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
    #[diesel(sql_type = Nullable<Int4>)]
    purpose_version: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    state: Option<String>,
}

/// The read: the hold (`holds::model::ACTIVE_HOLD`) and the open flags
/// (`consents::erasure::OPEN_FLAGS`); one row with no purpose when nothing is left to withdraw.
static READ: LazyLock<String> = LazyLock::new(|| {
    numbered(
        &format!(
            "SELECT ({hold}) AS hold, o.purpose_id, o.basis, o.description, o.purpose_version, \
               o.state \
             FROM (SELECT 1) AS one LEFT JOIN ({open}) AS o ON true ORDER BY o.purpose_id",
            hold = crate::holds::model::ACTIVE_HOLD,
            open = consents::OPEN_FLAGS,
        ),
        &["subject"],
    )
});

/// One statement: the hold and the open flags. The consent batch is not needed: the subject's
/// row lock keeps every other change of its flags waiting.
fn open_flags(conn: &mut PgConnection, id: SubjectId) -> ApiResult<Open> {
    let rows: Vec<OpenRow> = diesel::sql_query(READ.as_str())
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
                version: r.purpose_version?,
                state: r.state?,
            })
        })
        .collect();
    Ok(Open { hold, purposes })
}

/// The parameters of the records' statement, in the order `record` binds them.
const RECORD_PARAMS: [&str; 17] = [
    "subject",
    "subjects",
    "event_subjects",
    "purposes",
    "events",
    "ats",
    "versions",
    "states",
    "jws",
    "actor",
    "request_id",
    "kid",
    "x",
    "at",
    "revoked_reason",
    "reason",
    "privacy_request",
];

/// The records: the consents' withdrawals, their receipts, the authorizations' revocation and the
/// erasure row, one statement.
static RECORD: LazyLock<String> = LazyLock::new(|| {
    numbered(
        &format!(
            "WITH {withdraw}, {receipts}, {revoke} \
             INSERT INTO erasures (subject_id, erased_at, actor, reason, privacy_request_id, \
               request_id) \
             VALUES ({{subject}}, {{at}}, {{actor}}, {{reason}}, {{privacy_request}}, {{request_id}})",
            withdraw = consents::WITHDRAW_ALL,
            receipts = crate::receipts::ERASURE_RECEIPTS,
            revoke = crate::disclosures::REVOKE_ALL,
        ),
        &RECORD_PARAMS,
    )
});

/// `sql` with each `{name}` replaced by its place in `names` (`$1` for the first).
pub(super) fn numbered(sql: &str, names: &[&str]) -> String {
    names
        .iter()
        .enumerate()
        .fold(sql.to_owned(), |sql, (i, name)| {
            sql.replace(&format!("{{{name}}}"), &format!("${}", i + 1))
        })
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
    let withdrawals = consents::withdrawals(conn, id, open)?;
    let now = Utc::now().trunc_subsecs(6);
    diesel::sql_query(RECORD.as_str())
        .bind::<SqlUuid, _>(id)
        .bind::<Array<SqlUuid>, _>(vec![id])
        .bind::<Array<SqlUuid>, _>(&withdrawals.subjects)
        .bind::<Array<Text>, _>(&withdrawals.purposes)
        .bind::<Array<SqlUuid>, _>(&withdrawals.events)
        .bind::<Array<Timestamptz>, _>(&withdrawals.ats)
        .bind::<Array<Int4>, _>(&withdrawals.versions)
        .bind::<Array<Text>, _>(&withdrawals.states)
        .bind::<Array<Text>, _>(&withdrawals.receipts)
        .bind::<Text, _>(&command.entry.actor)
        .bind::<Text, _>(&command.entry.request_id)
        .bind::<Text, _>(&withdrawals.key.kid)
        .bind::<Text, _>(&withdrawals.key.x)
        .bind::<Timestamptz, _>(now)
        .bind::<Text, _>(REVOKED_BY_ERASURE)
        .bind::<Text, _>(reason.as_str())
        .bind::<Nullable<SqlUuid>, _>(command.privacy_request_id)
        .execute(conn)?;
    Ok(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every part's parameter is one the erasure binds, and every bound one is used.
    #[test]
    fn the_composed_statements_name_only_bound_parameters() {
        for (sql, count) in [(READ.as_str(), 1), (RECORD.as_str(), RECORD_PARAMS.len())] {
            assert!(!sql.contains('{'), "an unbound parameter in {sql}");
            for n in 1..=count {
                assert!(sql.contains(&format!("${n}")), "${n} unused in {sql}");
            }
        }
    }
}
