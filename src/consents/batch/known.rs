//! What a batch knows before it writes: where each subject stands, each purpose's rule in force,
//! and the data keys of the subjects whose changes carry evidence.

use super::change::PendingChange;
use crate::at_rest::{self, Cipher};
use crate::db::schema::{purpose_versions, purposes, subject_keys, subjects};
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use crate::subjects::standing::Standing;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

/// The subjects of a batch that exist, the purposes with each one's stored basis, and the
/// wrapped data keys of the subjects whose changes carry evidence.
pub(super) struct Known {
    /// Where each subject of the batch that has a row stands.
    pub(super) standings: HashMap<SubjectId, Standing>,
    pub(super) bases: HashMap<String, Rule>,
    pub(super) keys: HashMap<SubjectId, at_rest::Wrapped>,
}

/// Whether the batch may record a change about the subject: it is there and not erased.
pub(super) fn present(standings: &HashMap<SubjectId, Standing>, id: SubjectId) -> bool {
    standings
        .get(&id)
        .copied()
        .is_some_and(Standing::is_present)
}

/// What rules a grant of a purpose made now: its version in force and that version's settings.
#[derive(Queryable)]
pub(super) struct Rule {
    pub(super) basis: String,
    pub(super) version: i32,
    pub(super) validity_months: Option<i32>,
    pub(super) confirmation: String,
}

impl Known {
    /// Key-share locks the subjects first (in id order), as every change about a subject does:
    /// an erasure under way makes the batch wait and then see it, and one that comes later
    /// waits for the batch (see `subjects::model::Lock`).
    pub(super) fn load(conn: &mut PgConnection, changes: &[PendingChange]) -> ApiResult<Self> {
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
    pub(super) fn valid(&self, change: &PendingChange) -> bool {
        present(&self.standings, change.subject_id)
            && self
                .bases
                .get(&change.purpose_id)
                .is_some_and(|rule| change.purpose_version.is_none_or(|v| v == rule.version))
    }

    /// `evidence` sealed under the subject's key for `place`.
    pub(super) fn seal(
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
