//! A set of a run's subjects erased in one transaction (`rights::erasure_set`): the subjects
//! still due locked with one statement, then erased with a few set-based ones, the run's count in
//! the same transaction. Each subject stays whole or untouched: a hold placed meanwhile leaves its
//! subject untouched and counted, one no longer due is left out, and a set whose transaction
//! fails is erased again one subject per transaction (`run::erase_one`), so one subject that
//! cannot be erased never holds the others back.

use super::model::{self, Cutoffs, DueRow};
use crate::domain::ids::{RetentionRuleId, RetentionRunId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::receipts::deferred;
use crate::rights::erasure_set::{self, SetBy, SetErased};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Timestamptz, Uuid as SqlUuid};

/// Subjects erased per transaction at the most: short enough that the reads of other requests
/// never wait long on a lock, long enough that a statement's cost is shared by many.
pub const SET: usize = 100;

/// The reason an erasure by a rule records.
pub fn reason(rule: &model::RuleRow) -> String {
    format!(
        "retention rule {}: kept {} months after the last activity",
        rule.id, rule.keep_months
    )
}

/// The run a set belongs to.
pub struct SetOf<'a> {
    /// The run, whose count the set adds to.
    pub run: RetentionRunId,
    /// Its actor and request id, those of every record.
    pub by: SetBy<'a>,
    /// Its rules, as read for the batch.
    pub cutoffs: &'a Cutoffs,
}

/// Erases `rows` (none on hold when read) as one set; returns how many were found on hold.
/// `one_by_one` erases a subject in a transaction of its own, for a set that failed (it answers
/// whether the subject was on hold).
pub fn erase(
    conn: &mut PgConnection,
    of: &SetOf<'_>,
    rows: &[&DueRow],
    one_by_one: &dyn Fn(&mut PgConnection, &DueRow) -> ApiResult<bool>,
) -> ApiResult<i64> {
    let SetOf { run, by, cutoffs } = of;
    let run = *run;
    let attempt = conn.transaction(|conn| {
        let locked = lock_still_due(conn, cutoffs, rows)?;
        let done = erasure_set::erase_locked_set(conn, by, &locked)?;
        model::count_erased(conn, run, done.erased.len() as i64)?;
        Ok::<SetErased, ApiError>(done)
    });
    match attempt {
        Ok(done) => {
            // Committed: the receipts are signed now, outside the locks. Should this fail, the
            // run signs what is left before it is marked finished.
            if let Err(e) = deferred::sign_and_store(conn, &done.unsigned) {
                log::warn!(
                    "retention: signing a set's receipts failed, left for the run's end: {e}"
                );
            }
            Ok(done.held.len() as i64)
        }
        Err(ApiError::Unavailable) => Err(ApiError::Unavailable),
        Err(e) => {
            log::warn!(
                "retention: a set of {} failed ({e}); erasing them one by one",
                rows.len()
            );
            let mut held = 0;
            for row in rows {
                if one_by_one(conn, row)? {
                    held += 1;
                }
            }
            Ok(held)
        }
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = SqlUuid)]
    id: SubjectId,
    #[diesel(sql_type = SqlUuid)]
    rule: RetentionRuleId,
}

/// Locks, in id order, the subjects of `rows` that are still there, not erased and past the
/// keep date of the rule version the run read (the rule share-locked): each with its reason.
fn lock_still_due(
    conn: &mut PgConnection,
    cutoffs: &Cutoffs,
    rows: &[&DueRow],
) -> ApiResult<Vec<(SubjectId, String)>> {
    let mut ids = Vec::with_capacity(rows.len());
    let mut rules = Vec::with_capacity(rows.len());
    let mut versions = Vec::with_capacity(rows.len());
    let mut befores: Vec<DateTime<Utc>> = Vec::with_capacity(rows.len());
    for row in rows {
        if let (Some(rule), Some(before)) =
            (cutoffs.rule_of(&row.kind), cutoffs.before_of(&row.kind))
        {
            ids.push(row.subject_id);
            rules.push(rule.id);
            versions.push(rule.version);
            befores.push(before);
        }
    }
    // Activity as retention counts it: a withheld disclosure whose date has come is activity.
    let locked: Vec<Locked> = diesel::sql_query(format!(
        "SELECT s.id, r.id AS rule \
         FROM unnest($1::uuid[], $2::uuid[], $3::int4[], $4::timestamptz[]) \
           AS d(id, rule, version, before) \
         JOIN subjects s ON s.id = d.id JOIN retention_rules r ON r.id = d.rule \
         WHERE s.erased_at IS NULL AND {} < d.before \
           AND r.version = d.version AND r.subject_kind = s.kind \
         ORDER BY s.id FOR UPDATE OF s FOR SHARE OF r",
        crate::disclosures::withheld::last_activity("s")
    ))
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(&rules)
    .bind::<Array<Int4>, _>(&versions)
    .bind::<Array<Timestamptz>, _>(&befores)
    .load(conn)?;
    Ok(locked
        .into_iter()
        .filter_map(|l| {
            let rule = cutoffs.rules.iter().find(|r| r.id == l.rule)?;
            Some((l.id, reason(rule)))
        })
        .collect())
}
