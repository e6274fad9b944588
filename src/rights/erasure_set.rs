//! The erasure of many subjects at once (a retention batch): the records of `erasure`, written
//! by set-based statements in the caller's transaction, so that a batch costs a few statements
//! rather than a few per subject. Each subject is still erased wholly or not at all: one covered
//! by an active hold is left untouched, and any failure rolls the whole batch back (the caller
//! then erases its subjects one by one). The withdrawals' receipts are returned to be signed
//! after the commit (`receipts::deferred`), off the path that holds the subjects' locks.

use super::erasure::{numbered, REVOKED_BY_ERASURE};
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Actor;
use crate::consents::erasure::{self as consents, OpenPurpose, Withdrawals};
use crate::domain::ids::{HoldId, SubjectId};
use crate::domain::notice::NoticeType;
use crate::domain::text::LongText;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::receipts::deferred::Prepared;
use chrono::{SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Who erases a set, and under which request id (a retention run's).
pub struct SetBy<'a> {
    /// The actor of every entry, event and erasure row.
    pub actor: &'a str,
    /// The request id of the same.
    pub request_id: &'a str,
}

/// What became of a set.
pub struct SetErased {
    /// The subjects erased.
    pub erased: Vec<SubjectId>,
    /// The subjects an active hold covers, left untouched.
    pub held: Vec<SubjectId>,
    /// The withdrawals' receipts, to sign once the transaction has committed.
    pub unsigned: Prepared,
}

/// A row of the read: a subject, its hold, and a purpose to withdraw (none when nothing is left).
#[derive(QueryableByName)]
struct OpenRow {
    #[diesel(sql_type = SqlUuid)]
    subject: SubjectId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    hold: Option<HoldId>,
    #[diesel(sql_type = Nullable<Text>)]
    purpose_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    basis: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    description: Option<String>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Int4>)]
    purpose_version: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    state: Option<String>,
}

/// The read of `erasure`, for every subject of the array `$1`: each one's hold and open flags.
static READ: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT u.subject, ({hold}) AS hold, o.purpose_id, o.basis, o.description, \
           o.purpose_version, o.state \
         FROM unnest($1::uuid[]) AS u(subject) LEFT JOIN LATERAL ({open}) AS o ON true \
         ORDER BY u.subject, o.purpose_id",
        hold = crate::holds::model::ACTIVE_HOLD,
        open = consents::OPEN_FLAGS,
    )
    .replace("{subject}", "u.subject")
});

/// The parameters of the records' statement, in the order `record` binds them.
const RECORD_PARAMS: [&str; 12] = [
    "subjects",
    "reasons",
    "event_subjects",
    "purposes",
    "events",
    "ats",
    "versions",
    "states",
    "actor",
    "request_id",
    "at",
    "revoked_reason",
];

/// The records of `erasure` for every subject of `{subjects}`, one statement: the withdrawals,
/// the authorizations' revocation and one erasure row per subject (with its reason).
static RECORD: LazyLock<String> = LazyLock::new(|| {
    numbered(
        &format!(
            "WITH {withdraw}, {revoke} \
             INSERT INTO erasures (subject_id, erased_at, actor, reason, privacy_request_id, \
               request_id) \
             SELECT x.s, {{at}}, {{actor}}, x.r, NULL, {{request_id}} \
             FROM unnest({{subjects}}::uuid[], {{reasons}}::text[]) AS x(s, r)",
            withdraw = consents::WITHDRAW_ALL,
            revoke = crate::disclosures::REVOKE_ALL,
        ),
        &RECORD_PARAMS,
    )
});

/// Erases, in the caller's transaction, the subjects given with their reasons, which the caller
/// has locked `FOR UPDATE` in this transaction and seen exist, not erased (as `erase_locked`
/// wants). Those an active hold covers are left untouched. A bad reason fails the whole set with
/// the 400 `erasure` would give.
pub fn erase_locked_set(
    conn: &mut PgConnection,
    by: &SetBy<'_>,
    subjects: &[(SubjectId, String)],
) -> ApiResult<SetErased> {
    let mut reasons = BTreeMap::new();
    for (id, reason) in subjects {
        let reason = LongText::parse(reason)
            .map_err(|message| ApiError::invalid(vec![FieldError::new("reason", message)]))?;
        reasons.insert(*id, reason.as_str().to_owned());
    }
    let ids: Vec<SubjectId> = reasons.keys().copied().collect();
    // After the locks, in a statement of its own: a hold placed while they were awaited is seen.
    let rows: Vec<OpenRow> = diesel::sql_query(READ.as_str())
        .bind::<Array<SqlUuid>, _>(&ids)
        .load(conn)?;
    let mut open: BTreeMap<SubjectId, Vec<OpenPurpose>> = BTreeMap::new();
    let mut held = Vec::new();
    for row in rows {
        if row.hold.is_some() {
            if held.last() != Some(&row.subject) {
                held.push(row.subject);
            }
            continue;
        }
        let purposes = open.entry(row.subject).or_default();
        if let (Some(id), Some(basis), Some(description), Some(version), Some(state)) = (
            row.purpose_id,
            row.basis,
            row.description,
            row.purpose_version,
            row.state,
        ) {
            purposes.push(OpenPurpose {
                id,
                basis,
                description,
                version,
                state,
            });
        }
    }
    let mut withdrawals = Withdrawals::new(crate::receipts::key()?);
    let mut stamped = Vec::new();
    for (subject, purposes) in &open {
        stamped.extend(withdrawals.stamp(*subject, purposes));
    }
    // Before the records: the third parties are those whose authorizations they revoke.
    let unsigned = Prepared {
        events: withdrawals.events.clone(),
        bodies: crate::receipts::unwritten::payloads(conn, &stamped)?,
    };
    let erased: Vec<SubjectId> = open.keys().copied().collect();
    if erased.is_empty() {
        return Ok(SetErased {
            erased,
            held,
            unsigned,
        });
    }
    let reasons: Vec<&str> = erased
        .iter()
        .map(|id| reasons.get(id).map_or("", String::as_str))
        .collect();
    // After every event's time, as `erasure` records it.
    let now = Utc::now().trunc_subsecs(6);
    diesel::sql_query(RECORD.as_str())
        .bind::<Array<SqlUuid>, _>(&erased)
        .bind::<Array<Text>, _>(&reasons)
        .bind::<Array<SqlUuid>, _>(&withdrawals.subjects)
        .bind::<Array<Text>, _>(&withdrawals.purposes)
        .bind::<Array<SqlUuid>, _>(&withdrawals.events)
        .bind::<Array<Timestamptz>, _>(&withdrawals.ats)
        .bind::<Array<diesel::sql_types::Int4>, _>(&withdrawals.versions)
        .bind::<Array<Text>, _>(&withdrawals.states)
        .bind::<Text, _>(by.actor)
        .bind::<Text, _>(by.request_id)
        .bind::<Timestamptz, _>(now)
        .bind::<Text, _>(REVOKED_BY_ERASURE)
        .execute(conn)?;
    crate::at_rest::shred_subjects_at(conn, &erased, Some(now))?;
    let actor = Actor::new(by.actor, &[], None);
    let entries: Vec<NewEntry> = erased
        .iter()
        .map(|id| {
            let (action, outcome) = (Action::SubjectErase, Outcome::Allowed);
            NewEntry::for_actor(
                &actor,
                by.request_id,
                None,
                action,
                Some(id.uuid()),
                outcome,
            )
        })
        .collect();
    access_log::record(conn, &entries)?;
    // Art. 19: one `subject.erased` notice per recipient of each subject's data.
    let notices: Vec<_> = erased
        .iter()
        .map(|id| crate::notices::Event::plain(*id, NoticeType::Erased))
        .collect();
    crate::notices::queue_all(conn, &notices)?;
    Ok(SetErased {
        erased,
        held,
        unsigned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every part's parameter is one the set erasure binds, and every bound one is used.
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
