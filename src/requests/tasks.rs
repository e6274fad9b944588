//! Handlers of a privacy request's tasks: staff add them, a notice that carries the request opens
//! one (closed by the recipient's outcome), `If-Match` guards every change, and closing the
//! request cancels those still open. Logged as `request.update` / `request.read` about the
//! request's subject.

use super::model::{self, RequestRow};
use super::routes::{entry, now};
use super::task_api::{NewTask, Task, TaskChange};
use super::task_model::{self, TaskRow};
use crate::access_log::{self, Action};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::{PrivacyRequestId, SubjectId, TaskId};
use crate::domain::outcome::TaskStatus;
use crate::domain::privacy_request::RequestStatus;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, BadId, JsonBody, LogUnavailable, Precondition, RequestsRead, RequestsWrite, Unavailable,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::HashMap;

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::client(StatusCode::CONFLICT, code, detail)
}

/// The request's subject, or 409 `request-without-subject`.
fn subject_of(request: &RequestRow) -> ApiResult<SubjectId> {
    request.subject_id.ok_or_else(|| {
        conflict(
            "request-without-subject",
            "the request names no subject: tasks hold personal values sealed under the \
             subject's key",
        )
    })
}

/// 409 `request-closed` for a closed request.
fn require_open(request: &RequestRow) -> ApiResult<()> {
    if request.status == RequestStatus::Closed.as_str() {
        return Err(conflict("request-closed", "the request is closed"));
    }
    Ok(())
}

fn answer(
    conn: &mut diesel::PgConnection,
    status: StatusCode,
    row: TaskRow,
    key: Option<&crate::at_rest::Cipher>,
) -> ApiResult<Answer> {
    let (request, id, etag) = (row.request_id, row.id, precondition::etag(row.version));
    let task = task_model::views(conn, vec![row], key)?
        .pop()
        .ok_or_else(|| ApiError::internal("a task's view is missing"))?;
    let answer = Answer::json(status, &task)?.etag(etag);
    if status != StatusCode::CREATED {
        return Ok(answer);
    }
    Ok(answer.location(format!("/v1/privacy-requests/{request}/tasks/{id}")))
}

/// Adds a task to a request.
///
/// The request must name a subject (409 `request-without-subject`: the title is sealed under
/// the subject's key) and be open (409 `request-closed`). The answer carries the task's `ETag`
/// (`"1"`). Logged as `request.update`.
#[utoipa::path(post, path = paths::PRIVACY_REQUEST_TASKS, tag = "privacy-requests", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body = NewTask,
    responses(
        (status = 201, description = "Added", body = Task, headers(
            ("Location" = String, description = "The task's path"),
            ("ETag" = String, description = "The task's version, quoted"),
        )),
        (status = 400, description = "Invalid fields, each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request-without-subject` or `request-closed`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The request's subject was erased (`subject-erased`)", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_task(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<PrivacyRequestId>,
    body: BodyAfterAuth<NewTask>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsWrite, Action::RequestUpdate, None)
        .await?;
    let body = body.read().await?;
    let id = id.into_inner();
    let key = idempotency::Key::of(&req, &caller.actor)?;
    Ok(idempotency::commit(&state.db, key, None, move |conn| {
        let request = model::lock(conn, id)?;
        let subject = subject_of(&request)?;
        require_open(&request)?;
        let key = task_model::key_of(conn, subject)?;
        let task = TaskId::new();
        let row = TaskRow {
            id: task,
            request_id: id,
            title_enc: Some(task_model::seal_title(&key, &task, body.title.trim())),
            assignee: body.assignee.map(|a| a.trim().to_owned()),
            due_on: body.due_on,
            status: TaskStatus::Open.as_str().to_owned(),
            notification_id: None,
            note_enc: None,
            created_at: now(),
            completed_at: None,
            completed_by: None,
            version: 1,
        };
        task_model::insert(conn, &row)?;
        access_log::record(
            conn,
            &[entry(&caller, Action::RequestUpdate, Some(subject))],
        )?;
        answer(conn, StatusCode::CREATED, row, Some(&key))
    })
    .await?)
}

/// Lists a request's tasks, in the order they were made.
///
/// Answers only once its `request.read` entry about the request's subject is committed.
#[utoipa::path(get, path = paths::PRIVACY_REQUEST_TASKS, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The request's id"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of tasks", body = Page<Task>),
        (status = 400, description = "A bad parameter, named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsRead>, LogUnavailable,
    ))]
pub async fn list_tasks(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PrivacyRequestId>,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsRead, Action::RequestRead, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let limit = params.limit();
    let cursor = params.cursor::<TaskId>();
    params.finish()?;
    let id = id.into_inner();
    let (subject, tasks) = state
        .db
        .run(move |conn| {
            let request = model::find(conn, id)?;
            let rows = task_model::of_request(conn, id, cursor, limit)?;
            let key = match request.subject_id {
                Some(subject) => crate::at_rest::subject_key(conn, subject)?,
                None => None,
            };
            Ok((
                request.subject_id,
                task_model::views(conn, rows, key.as_ref())?,
            ))
        })
        .await?;
    let page = Page::from_rows(tasks, limit, |t| t.id.to_string());
    state
        .log_reads(vec![entry(&caller, Action::RequestRead, subject)])
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Changes a task: its `assignee`, its `due_on`, or closes it (`status` `done` or `cancelled`,
/// with an optional `note`).
///
/// `If-Match` with the task's `ETag` is required (428 without, 412 when stale). 409
/// `request-closed` once the request is closed (closing it cancelled its open tasks), 409
/// `task-closed` to close a task that is no longer open. Logged as `request.update`.
#[utoipa::path(patch, path = paths::PRIVACY_REQUEST_TASK, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The request's id"),
        ("tid" = Uuid, Path, description = "The task's id"),
        ("If-Match" = String, Header, description = "The task's `ETag` last read"),
    ),
    request_body = TaskChange,
    responses(
        (status = 200, description = "Changed", body = Task, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields, each named; or an id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or no such task of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request-closed` or `task-closed`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "A `note` about an erased subject (`subject-erased`)", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, BadId, JsonBody, Precondition, Unavailable,
    ))]
pub async fn change_task(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    ids: web::Path<(PrivacyRequestId, TaskId)>,
    body: BodyAfterAuth<TaskChange>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsWrite, Action::RequestUpdate, None)
        .await?;
    let body = body.read().await?;
    let if_match = precondition::IfMatch::of(req.headers(), "task")?;
    let (id, task) = ids.into_inner();
    let key = idempotency::Key::of(&req, &caller.actor)?;
    Ok(idempotency::commit(&state.db, key, None, move |conn| {
        let request = model::lock(conn, id)?;
        let mut row = task_model::lock(conn, id, task)?;
        if_match.check(row.version)?;
        require_open(&request)?;
        let subject = subject_of(&request)?;
        if body.status.is_some() && !task_model::is_open(&row) {
            return Err(conflict("task-closed", "the task is no longer open"));
        }
        // Only a note needs the subject's key: an erased subject's tasks still change.
        let key = match body.note {
            Some(_) => Some(task_model::key_of(conn, subject)?),
            None => crate::at_rest::subject_key(conn, subject)?,
        };
        apply(&mut row, body, key.as_ref(), &caller.actor.sub);
        task_model::update(conn, &row)?;
        access_log::record(
            conn,
            &[entry(&caller, Action::RequestUpdate, Some(subject))],
        )?;
        answer(conn, StatusCode::OK, row, key.as_ref())
    })
    .await?)
}

fn apply(row: &mut TaskRow, change: TaskChange, key: Option<&crate::at_rest::Cipher>, actor: &str) {
    if let Some(assignee) = change.assignee {
        row.assignee = assignee.map(|a| a.trim().to_owned());
    }
    if let Some(due_on) = change.due_on {
        row.due_on = due_on;
    }
    if let Some(status) = change.status {
        row.status = status.as_str().to_owned();
        row.completed_at = Some(now());
        row.completed_by = Some(actor.to_owned());
        row.note_enc = key
            .zip(change.note)
            .map(|(key, note)| task_model::seal_note(key, &row.id, note.trim()));
    }
    row.version += 1;
}
