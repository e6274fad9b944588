//! Task rows: their sealed title and note (under the subject's key, so that an erasure makes
//! them unreadable) and their queries.

use super::task_api::Task;
use crate::at_rest::{Cipher, Place};
use crate::db::schema::{notices, privacy_request_tasks as tasks};
use crate::domain::ids::{NoticeId, PrivacyRequestId, SubjectId, TaskId};
use crate::domain::outcome::TaskStatus;
use crate::error::{ApiError, ApiResult};
use crate::subjects::model::Lock;
use crate::subjects::standing::Standing;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

/// A stored task.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tasks, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct TaskRow {
    pub id: TaskId,
    pub request_id: PrivacyRequestId,
    pub title_enc: Option<Vec<u8>>,
    pub assignee: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: String,
    pub notification_id: Option<NoticeId>,
    pub note_enc: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub version: i32,
}

fn at<'a>(column: &'static str, id: &'a TaskId) -> Place<'a> {
    Place {
        table: "privacy_request_tasks",
        column,
        row: id.0.as_bytes(),
    }
}

/// Seals a title.
pub fn seal_title(key: &Cipher, id: &TaskId, title: &str) -> Vec<u8> {
    key.seal(at("title_enc", id), title.as_bytes())
}

/// Seals a note.
pub fn seal_note(key: &Cipher, id: &TaskId, note: &str) -> Vec<u8> {
    key.seal(at("note_enc", id), note.as_bytes())
}

/// The subject's key, or 410 `subject-erased` when it is gone (nothing new can be sealed).
pub fn key_of(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Cipher> {
    if let Some(key) = crate::at_rest::subject_key(conn, subject)? {
        return Ok(key);
    }
    // No key: the standing rule answers (410 once erased); a present subject has one.
    Standing::read(conn, subject, Lock::None)?.require()?;
    Err(ApiError::internal("a subject without a data key"))
}

/// The API's view of stored tasks; `key` is the subject's (none once erased).
pub fn views(
    conn: &mut PgConnection,
    rows: Vec<TaskRow>,
    key: Option<&Cipher>,
) -> ApiResult<Vec<Task>> {
    let notices: Vec<NoticeId> = rows.iter().filter_map(|r| r.notification_id).collect();
    let kinds: std::collections::HashMap<NoticeId, (String, uuid::Uuid)> = notices::table
        .filter(notices::id.eq_any(&notices))
        .select((notices::id, notices::kind, notices::recipient_id))
        .load::<(NoticeId, String, crate::domain::ids::RecipientId)>(conn)?
        .into_iter()
        .map(|(id, kind, recipient)| (id, (kind, recipient.uuid())))
        .collect();
    rows.into_iter()
        .map(|row| {
            let open = |column, sealed: &Option<Vec<u8>>| {
                key.zip(sealed.as_deref())
                    .and_then(|(k, s)| k.open_text(at(column, &row.id), Some(s)))
            };
            let title = match (row.notification_id, &row.title_enc) {
                (Some(notice), None) => kinds.get(&notice).map(|(kind, recipient)| {
                    format!("Get recipient {recipient}'s outcome of the {kind} notice {notice}")
                }),
                (_, sealed) => open("title_enc", sealed),
            };
            Ok(Task {
                id: row.id,
                request_id: row.request_id,
                title,
                assignee: row.assignee,
                due_on: row.due_on,
                status: TaskStatus::from_db(&row.status)?,
                notification_id: row.notification_id,
                note: open("note_enc", &row.note_enc),
                created_at: row.created_at,
                completed_at: row.completed_at,
                completed_by: row.completed_by,
                version: row.version,
            })
        })
        .collect()
}

/// Inserts a task.
pub fn insert(conn: &mut PgConnection, row: &TaskRow) -> ApiResult<()> {
    diesel::insert_into(tasks::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` + 1 tasks of the request after `cursor`, in the order they were made.
pub fn of_request(
    conn: &mut PgConnection,
    request: PrivacyRequestId,
    cursor: Option<TaskId>,
    limit: i64,
) -> ApiResult<Vec<TaskRow>> {
    let mut query = tasks::table
        .filter(tasks::request_id.eq(request))
        .order(tasks::id)
        .limit(limit + 1)
        .select(TaskRow::as_select())
        .into_boxed();
    if let Some(after) = cursor {
        query = query.filter(tasks::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// The task of this request, locked, or 404.
pub fn lock(conn: &mut PgConnection, request: PrivacyRequestId, id: TaskId) -> ApiResult<TaskRow> {
    tasks::table
        .filter(tasks::request_id.eq(request))
        .filter(tasks::id.eq(id))
        .select(TaskRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("task"))
}

/// Stores a changed task.
pub fn update(conn: &mut PgConnection, row: &TaskRow) -> ApiResult<()> {
    diesel::update(tasks::table.find(row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Whether the task is still open.
pub fn is_open(row: &TaskRow) -> bool {
    row.status == TaskStatus::Open.as_str()
}
