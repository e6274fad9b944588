//! The audited read of one subject by id, the hottest path: it rides the group commit, so a
//! batch fetches all its subjects with one query inside the transaction that appends their
//! entries, and a read costs the database a share of three statements and the request one
//! hand-off.

use super::model::{find_many, SubjectRow};
use crate::access_log::group_commit::GroupOp;
use crate::access_log::NewEntry;
use crate::error::ApiResult;
use diesel::pg::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// Reads one subject and logs the read in the same transaction; no entry when there is no such
/// subject.
pub struct ReadSubject;

impl GroupOp for ReadSubject {
    type Job = (Uuid, NewEntry);
    type Answer = Option<SubjectRow>;

    fn apply(
        conn: &mut PgConnection,
        jobs: &[(Uuid, NewEntry)],
        entries: &mut Vec<NewEntry>,
    ) -> ApiResult<Vec<Option<SubjectRow>>> {
        let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| *id).collect();
        let found: HashMap<Uuid, SubjectRow> = find_many(conn, &ids)?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        Ok(jobs
            .iter()
            .map(|(id, entry)| {
                let row = found.get(id).cloned();
                if row.is_some() {
                    entries.push(entry.clone());
                }
                row
            })
            .collect())
    }
}
