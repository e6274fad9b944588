//! The audited read of one subject by id, the hottest path: it rides the group commit, so a
//! batch fetches all its subjects (each with its wrapped data key) with one query inside the
//! transaction that appends their entries, and a read costs the database a share of three
//! statements and the request one hand-off. The values are opened by the request itself, after
//! the commit, so decryption never lengthens a batch. The Art. 14 status of the persons whose
//! data did not come from them is read in the same transaction, one statement for the batch.

use super::model::{find_many_sealed, Keyed};
use super::standing::Standing;
use crate::access_log::group_commit::GroupOp;
use crate::access_log::NewEntry;
use crate::art14::api::Art14;
use crate::domain::ids::SubjectId;
use crate::domain::source_type::SourceType;
use crate::error::ApiResult;
use diesel::pg::PgConnection;
use std::collections::HashMap;

/// Reads one subject and logs the read in the same transaction; no entry when there is no such
/// subject or it is erased (the handler answers 410 with nothing but the time of erasure).
pub struct ReadSubject;

/// A subject as read: its row with the wrapped key, and its Art. 14 status (none when its data
/// came from the person).
pub type Read = (Keyed, Option<Art14>);

impl GroupOp for ReadSubject {
    type Job = (SubjectId, NewEntry);
    type Answer = Option<Read>;

    fn apply(
        conn: &mut PgConnection,
        jobs: &[(SubjectId, NewEntry)],
        entries: &mut Vec<NewEntry>,
    ) -> ApiResult<Vec<Option<Read>>> {
        let ids: Vec<SubjectId> = jobs.iter().map(|(id, _)| *id).collect();
        let found: HashMap<SubjectId, Keyed> = find_many_sealed(conn, &ids)?
            .into_iter()
            .map(|row| (row.0.id, row))
            .collect();
        let owed: Vec<SubjectId> = found
            .values()
            .filter(|row| row.0.erased_at.is_none())
            .filter(|row| row.0.sealed.source_type != SourceType::DataSubject.as_str())
            .map(|row| row.0.id)
            .collect();
        let art14 = crate::art14::model::statuses(conn, &owed)?;
        Ok(jobs
            .iter()
            .map(|(id, entry)| {
                let row = found.get(id).cloned();
                // Logged only when the rule lets the read answer the subject.
                let standing = row
                    .as_ref()
                    .map(|r| (r.0.erased_at, r.0.restriction_ground.as_deref()));
                if Standing::of(standing).is_ok_and(Standing::is_present) {
                    entries.push(entry.clone());
                }
                row.map(|row| (row, art14.get(id).cloned()))
            })
            .collect())
    }
}
