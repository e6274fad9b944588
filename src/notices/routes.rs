//! Handlers of notices to recipients: the list and one notice (`notification.read`), retry and
//! acknowledge (`notification.update`, in the transaction of the change).

use super::api::{Acknowledgement, Notice};
use super::model::{self, Filter, OutcomeFilter};
use super::outcomes;
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::NoticeId;
use crate::domain::notice::NoticeStatus;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::responses::{
    Auth, BadId, JsonBody, LogUnavailable, NotificationsRead, NotificationsWrite, Unavailable,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::HashMap;

/// Lists notices to recipients.
///
/// In the order they were queued, filtered by `recipient_id`, `subject_id`, `status` and
/// `outcome` (combined with AND). Logged as `notification.read`: about the subject when filtered by one,
/// otherwise one entry with the number of notices returned.
#[utoipa::path(get, path = paths::NOTIFICATIONS, tag = "notifications", security(("bearer" = [])),
    params(
        ("recipient_id" = Option<Uuid>, Query, description = "Only notices to this recipient"),
        ("subject_id" = Option<Uuid>, Query, description = "Only notices about this subject"),
        ("status" = Option<NoticeStatus>, Query, description = "Only notices with this status"),
        ("outcome" = Option<String>, Query, description = "`pending` (due an outcome that has not come), `overdue` (pending and `outcome_due_on` before today's Europe/Tallinn date), or an outcome (`done`, `not_held`, `refused`)"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of notices", body = Page<Notice>),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = "application/problem+json"),
        Auth<NotificationsRead>, LogUnavailable,
    ))]
pub async fn list_notices(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let mut params = Params::new(query.into_inner());
    let today = crate::domain::deadline::tallinn_date(chrono::Utc::now());
    let filter = Filter {
        recipient_id: params.parsed("recipient_id", "a UUID"),
        subject_id: params.parsed("subject_id", "a UUID"),
        status: params.with("status", NoticeStatus::parse),
        outcome: params.with("outcome", |text| OutcomeFilter::parse(text, today)),
    };
    state
        .authorize(
            &caller,
            Scope::NotificationsRead,
            Action::NotificationRead,
            filter.subject_id,
        )
        .await?;
    let limit = params.limit();
    let cursor = params.cursor::<i64>();
    params.finish()?;
    let subject = filter.subject_id;
    let keyed = state
        .db
        .run(move |conn| {
            let rows = model::list(conn, &filter, cursor, limit)?;
            let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
            Ok(seqs
                .into_iter()
                .zip(outcomes::views(conn, rows)?)
                .collect::<Vec<_>>())
        })
        .await?;
    let page = Page::from_rows(keyed, limit, |(seq, _)| seq.to_string());
    let page = Page {
        items: page.items.into_iter().map(|(_, n)| n).collect(),
        next_cursor: page.next_cursor,
    };
    let mut logged = caller.entry(Action::NotificationRead, subject, Outcome::Allowed);
    if subject.is_none() {
        logged = logged.with_count(page.items.len());
    }
    state.log_reads(vec![logged]).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Reads one notice.
///
/// Answers only once its `notification.read` entry about the notice's subject is committed.
#[utoipa::path(get, path = paths::NOTIFICATION, tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The notice's id")),
    responses(
        (status = 200, description = "The notice", body = Notice),
        (status = 404, description = "No such notice", body = Problem, content_type = "application/problem+json"),
        Auth<NotificationsRead>, BadId, LogUnavailable,
    ))]
pub async fn get_notice(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<NoticeId>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(
            &caller,
            Scope::NotificationsRead,
            Action::NotificationRead,
            None,
        )
        .await?;
    let id = id.into_inner();
    let notice = state
        .db
        .run(move |conn| {
            let row = model::find(conn, id)?;
            outcomes::view(conn, row)
        })
        .await?;
    let logged = caller.entry(
        Action::NotificationRead,
        Some(notice.subject_id),
        Outcome::Allowed,
    );
    state.log_reads(vec![logged]).await?;
    Ok(HttpResponse::Ok().json(notice))
}

/// Sends a notice again.
///
/// For a `dead` notice (every attempt failed) or a `pending` one (waiting for its next attempt):
/// it is due at once, to the recipient's current webhook; without an active webhook it becomes
/// `manual`. 409 for a notice in any other state. Logged as `notification.update`.
#[utoipa::path(post, path = paths::NOTIFICATION_RETRY, tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The notice's id")),
    responses(
        (status = 202, description = "Due again", body = Notice),
        (status = 404, description = "No such notice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The notice is neither dead nor pending", body = Problem, content_type = "application/problem+json"),
        Auth<NotificationsWrite>, BadId, Unavailable,
    ))]
pub async fn retry_notice(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<NoticeId>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(
            &caller,
            Scope::NotificationsWrite,
            Action::NotificationUpdate,
            None,
        )
        .await?;
    let id = id.into_inner();
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), None, |conn| {
                let row = model::lock(conn, id)?;
                let status = NoticeStatus::from_db(&row.status)?;
                if !matches!(status, NoticeStatus::Dead | NoticeStatus::Pending) {
                    return Err(ApiError::conflict(format!(
                        "a {} notice is not retried",
                        status.as_str()
                    )));
                }
                let row = model::retry(conn, &row)?;
                super::lanes::forgive(row.recipient_id);
                let logged = caller.entry(
                    Action::NotificationUpdate,
                    Some(row.subject_id),
                    Outcome::Allowed,
                );
                access_log::record(conn, &[logged])?;
                Answer::json(StatusCode::ACCEPTED, &outcomes::view(conn, row)?)
            })
        })
        .await?;
    super::wake();
    Ok(answer.respond())
}

/// Records that staff told the recipient another way.
///
/// For a `manual` notice (the recipient has no webhook) or a `dead` one, with a `note` saying
/// how and when; it becomes `acknowledged`. 409 for a notice in any other state (a delivered one
/// needs nothing more). Logged as `notification.update`.
#[utoipa::path(post, path = paths::NOTIFICATION_ACKNOWLEDGE, tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The notice's id")),
    request_body = Acknowledgement,
    responses(
        (status = 200, description = "Acknowledged", body = Notice),
        (status = 400, description = "A missing or bad `note`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The notice is neither manual nor dead", body = Problem, content_type = "application/problem+json"),
        Auth<NotificationsWrite>, BadId, JsonBody, Unavailable,
    ))]
pub async fn acknowledge_notice(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<NoticeId>,
    body: BodyAfterAuth<Acknowledgement>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(
            &caller,
            Scope::NotificationsWrite,
            Action::NotificationUpdate,
            None,
        )
        .await?;
    let note = body.read().await?.note.trim().to_owned();
    let id = id.into_inner();
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), None, |conn| {
                let row = model::lock(conn, id)?;
                let status = NoticeStatus::from_db(&row.status)?;
                if !matches!(status, NoticeStatus::Manual | NoticeStatus::Dead) {
                    return Err(ApiError::conflict(format!(
                        "a {} notice is not acknowledged",
                        status.as_str()
                    )));
                }
                let row = model::acknowledge(conn, id, &caller.actor.sub, &note)?;
                let logged = caller.entry(
                    Action::NotificationUpdate,
                    Some(row.subject_id),
                    Outcome::Allowed,
                );
                access_log::record(conn, &[logged])?;
                Answer::json(StatusCode::OK, &outcomes::view(conn, row)?)
            })
        })
        .await?;
    Ok(answer.respond())
}
