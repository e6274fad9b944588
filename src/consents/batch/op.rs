//! The consent change as a group-commit operation: how a batch of changes (keyed ones
//! included) is applied, answered, and followed by its withdrawal notices.

use super::change::{answer_of, ChangeOutcome, PendingChange};
use super::record::record_changes;
use crate::access_log::group_commit::GroupOp;
use crate::access_log::NewEntry;
use crate::domain::consent::Decision;
use crate::error::{ApiError, ApiResult};
use crate::idempotency;
use diesel::PgConnection;
use std::collections::HashSet;

/// Art. 19: the recipients of each subject's data learn of its withdrawals, with one statement
/// for the whole batch. Only the consent endpoint's batch calls this: an erasure, which also
/// records withdrawals, tells recipients of the erasure instead.
fn queue_withdrawal_notices(conn: &mut PgConnection, outcomes: &[ChangeOutcome]) -> ApiResult<()> {
    let withdrawals: Vec<crate::notices::Event> = outcomes
        .iter()
        .filter_map(|o| match o {
            ChangeOutcome::Recorded { event, .. }
                if event.status == Decision::Withdrawn.as_str() =>
            {
                Some(crate::notices::Event::consent_withdrawn(
                    event.subject_id,
                    &event.purpose_id,
                ))
            }
            _ => None,
        })
        .collect();
    crate::notices::queue_all(conn, &withdrawals)?;
    Ok(())
}

/// A consent change riding the group commit: recorded with its event and its entry in one
/// transaction shared with the other changes and reads waiting at the same time.
pub struct ChangeConsent;

impl GroupOp for ChangeConsent {
    type Job = PendingChange;
    type Answer = ChangeOutcome;
    const CHANGES_DATA: bool = true;

    fn apply(
        conn: &mut PgConnection,
        jobs: &[PendingChange],
        entries: &mut Vec<NewEntry>,
    ) -> ApiResult<Vec<ChangeOutcome>> {
        if jobs.iter().any(|j| j.idempotency.is_some()) {
            return apply_keyed(conn, jobs, entries);
        }
        let outcomes = record_changes(conn, jobs)?;
        queue_withdrawal_notices(conn, &outcomes)?;
        entries.extend(
            jobs.iter()
                .zip(&outcomes)
                .filter(|(_, outcome)| matches!(outcome, ChangeOutcome::Recorded { .. }))
                .flat_map(|(job, _)| {
                    std::iter::once(job.entry.clone()).chain(job.guardian_entry.clone())
                }),
        );
        Ok(outcomes)
    }
}

/// A batch holding keyed changes: replays answered from their stored answers, the others
/// recorded, and the answers of keyed ones stored in the same transaction.
fn apply_keyed(
    conn: &mut PgConnection,
    jobs: &[PendingChange],
    entries: &mut Vec<NewEntry>,
) -> ApiResult<Vec<ChangeOutcome>> {
    let mut settled: Vec<Option<ChangeOutcome>> = Vec::with_capacity(jobs.len());
    let mut seen = HashSet::new();
    for job in jobs {
        let Some(key) = &job.idempotency else {
            settled.push(None);
            continue;
        };
        // The same key twice in one batch: the second is still in flight when the first runs.
        if !seen.insert(key.clone()) {
            settled.push(Some(ChangeOutcome::Refused(idempotency::in_use())));
            continue;
        }
        settled.push(match idempotency::claim(conn, key, Some(&job.entry)) {
            Ok(Some(answer)) => Some(ChangeOutcome::Replayed(answer)),
            Ok(None) => None,
            Err(e @ (ApiError::Client { .. } | ApiError::Erased(_))) => {
                Some(ChangeOutcome::Refused(e))
            }
            Err(e) => return Err(e),
        });
    }
    let fresh: Vec<PendingChange> = jobs
        .iter()
        .zip(&settled)
        .filter(|(_, s)| s.is_none())
        .map(|(job, _)| job.clone())
        .collect();
    let recorded = record_changes(conn, &fresh)?;
    queue_withdrawal_notices(conn, &recorded)?;
    let mut recorded = recorded.into_iter();
    let mut outcomes = Vec::with_capacity(jobs.len());
    for (job, settled) in jobs.iter().zip(settled) {
        if let Some(outcome) = settled {
            outcomes.push(outcome);
            continue;
        }
        let outcome = recorded
            .next()
            .ok_or_else(|| ApiError::internal("a change without an outcome"))?;
        if let ChangeOutcome::Recorded { event, flag, .. } = &outcome {
            entries.push(job.entry.clone());
            entries.extend(job.guardian_entry.clone());
            if let Some(key) = &job.idempotency {
                // A one-time token is never stored: a replay answers it as null.
                let answer = answer_of(event, flag, None)?;
                idempotency::store(conn, key, Some(&job.entry), &answer)?;
            }
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
