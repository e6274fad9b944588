//! Handlers of privacy requests: record a request with its legal deadline, extend it once, close
//! it with an outcome, and list them for compliance scripts. Every handler logs an entry about
//! the request's subject in the transaction of the change, or before a read answers.

use super::api::{trimmed, Closing, Extension, NewPrivacyRequest, PrivacyRequest};
use super::model::{self, Filter, RequestRow};
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::deadline::{due_on, tallinn_date};
use crate::domain::privacy_request::{RequestKind, RequestOutcome, RequestStatus};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::BodyAfterAuth;
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, BadId, JsonBody, LogUnavailable, Precondition, RequestsRead, RequestsWrite, Unavailable,
};
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// Months to answer, and to answer once extended (GDPR Art. 12(3)).
const MONTHS: u32 = 1;
const EXTENDED_MONTHS: u32 = 3;

/// Rows fetched per query while streaming.
const STREAM_CHUNK: i64 = 1000;

fn respond(status: StatusCode, row: RequestRow) -> ApiResult<HttpResponse> {
    Ok(answer(status, row)?.respond())
}

/// One request as a storable answer, with its `ETag` (and `Location` when just created).
fn answer(status: StatusCode, row: RequestRow) -> ApiResult<Answer> {
    let (id, etag) = (row.id, precondition::etag(row.version));
    let answer = Answer::json(status, &PrivacyRequest::from_row(row)?)?.etag(etag);
    if status != StatusCode::CREATED {
        return Ok(answer);
    }
    Ok(answer.location(format!("/v1/privacy-requests/{id}")))
}

/// Runs an update of a request under its idempotency key: a replay repeats the stored answer
/// (with a `request.update` entry about the same subject); a new one is stored with its answer.
fn keyed_update(
    conn: &mut diesel::PgConnection,
    key: Option<&idempotency::Key>,
    caller: &Caller,
    work: impl FnOnce(&mut diesel::PgConnection) -> ApiResult<RequestRow>,
) -> ApiResult<Answer> {
    if let Some(key) = key {
        let template = entry(caller, Action::RequestUpdate, None);
        if let Some(answer) = idempotency::claim(conn, key, Some(&template))? {
            return Ok(answer);
        }
    }
    let row = work(conn)?;
    let logged = entry(caller, Action::RequestUpdate, row.subject_id);
    let answer = answer(StatusCode::OK, row)?;
    if let Some(key) = key {
        idempotency::store(conn, key, Some(&logged), &answer)?;
    }
    Ok(answer)
}

fn entry(caller: &Caller, action: Action, subject: Option<Uuid>) -> NewEntry {
    caller.entry(action, subject, Outcome::Allowed)
}

/// Now, as PostgreSQL stores it (microseconds), so that an answer equals a later read.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn deadline(received_on: NaiveDate, months: u32) -> ApiResult<NaiveDate> {
    due_on(received_on, months)
        .ok_or_else(|| ApiError::invalid_field("received_at", "is out of the calendar's range"))
}

/// Records a privacy request and computes its deadline.
///
/// `received_on` is the Europe/Tallinn date of `received_at`; `due_on` is one calendar month
/// later (the same day number, or the month's last day when it has none), moved to the next
/// working day when it falls on a Saturday, a Sunday or an Estonian public holiday. Logged as
/// `request.create` about the request's subject.
#[utoipa::path(post, path = paths::PRIVACY_REQUESTS, tag = "privacy-requests", security(("bearer" = [])),
    request_body = NewPrivacyRequest,
    responses(
        (status = 201, description = "Recorded, with its deadline", body = PrivacyRequest, headers(
            ("Location" = String, description = "The request's path"),
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 400, description = "Invalid fields (an unknown kind or channel, a future `received_at`), each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No subject with this `subject_id`", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<NewPrivacyRequest>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsWrite, Action::RequestCreate, None)
        .await?;
    let body = body.read().await?;
    let received_at = body.received_at.trunc_subsecs(6);
    let received_on = tallinn_date(received_at);
    let due = deadline(received_on, MONTHS)?;
    let now = now();
    let row = RequestRow {
        id: Uuid::now_v7(),
        version: 1,
        kind: body.kind.as_str().to_owned(),
        subject_id: body.subject_id,
        channel: body.channel.as_str().to_owned(),
        received_at,
        received_on,
        reference: trimmed(body.reference),
        status: RequestStatus::Open.as_str().to_owned(),
        original_due_on: due,
        due_on: due,
        extended: false,
        extension_reason: None,
        subject_informed_at: None,
        outcome: None,
        outcome_reason: None,
        closed_at: None,
        created_by: caller.actor.sub.clone(),
        created_at: now,
        updated_at: now,
    };
    let logged = entry(&caller, Action::RequestCreate, row.subject_id);
    let key = idempotency::Key::of(&req, &caller)?;
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&logged.clone()), |conn| {
                if let Some(subject) = row.subject_id {
                    model::require_subject(conn, subject)?;
                }
                model::insert(conn, &row)?;
                access_log::record(conn, &[logged])?;
                answer(StatusCode::CREATED, row)
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Reads one privacy request.
///
/// Answers only once its `request.read` entry about the request's subject is committed.
#[utoipa::path(get, path = paths::PRIVACY_REQUEST, tag = "privacy-requests", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = PrivacyRequest, headers(
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsRead>, BadId, LogUnavailable,
    ))]
pub async fn get_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsRead, Action::RequestRead, None)
        .await?;
    let id = id.into_inner();
    let row = state.db.run(move |conn| model::find(conn, id)).await?;
    state
        .log_reads(vec![entry(&caller, Action::RequestRead, row.subject_id)])
        .await?;
    respond(StatusCode::OK, row)
}

fn read_filter(params: &mut Params) -> Filter {
    Filter {
        status: params.with("status", |s| {
            RequestStatus::parse(s).map(|s| s.as_str().to_owned())
        }),
        kind: params.with("kind", |k| {
            RequestKind::parse(k).map(|k| k.as_str().to_owned())
        }),
        subject_id: params.parsed("subject_id", "a UUID"),
        overdue_on: params.with("overdue_on", |d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| "must be a date such as 2026-12-01".to_owned())
        }),
    }
}

/// Lists privacy requests for compliance scripts.
///
/// Filters combine with AND; `overdue_on=D` keeps the open requests whose `due_on` is before D
/// (so `overdue_on` = tomorrow lists what is due today or late). Ordered by id, which is the
/// order of recording. With `Accept: application/x-ndjson` every matching request is streamed,
/// one per line, without paging. Logged as `request.read`: about the subject when filtered by
/// one, otherwise one entry with the number of requests returned.
#[utoipa::path(get, path = paths::PRIVACY_REQUESTS, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("status" = Option<RequestStatus>, Query, description = "Only requests with this status"),
        ("kind" = Option<RequestKind>, Query, description = "Only requests of this kind"),
        ("subject_id" = Option<Uuid>, Query, description = "Only requests about this subject"),
        ("overdue_on" = Option<NaiveDate>, Query, description = "Only open requests due before this date (YYYY-MM-DD)"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of requests; or every match as NDJSON", body = Page<PrivacyRequest>,
            content((Page<PrivacyRequest> = "application/json"), (String = "application/x-ndjson"))),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsRead>, LogUnavailable,
    ))]
pub async fn list_requests(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let mut params = Params::new(query.into_inner());
    let filter = read_filter(&mut params);
    state
        .authorize(
            &caller,
            Scope::RequestsRead,
            Action::RequestRead,
            filter.subject_id,
        )
        .await?;
    let limit = params.limit();
    let cursor = params.cursor::<Uuid>();
    params.finish()?;
    let streamed = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-ndjson"));
    if streamed {
        let logged = entry(&caller, Action::RequestRead, filter.subject_id);
        state.log_reads(vec![logged]).await?;
        return Ok(stream(state.into_inner(), filter));
    }
    let subject = filter.subject_id;
    let rows = state
        .db
        .run(move |conn| model::list(conn, &filter, cursor, limit + 1))
        .await?;
    let items = rows
        .into_iter()
        .map(PrivacyRequest::from_row)
        .collect::<ApiResult<Vec<_>>>()?;
    let page = Page::from_rows(items, limit, |r| r.id.to_string());
    let mut logged = entry(&caller, Action::RequestRead, subject);
    if subject.is_none() {
        logged = logged.with_count(page.items.len());
    }
    state.log_reads(vec![logged]).await?;
    Ok(HttpResponse::Ok().json(page))
}

fn ndjson(rows: Vec<RequestRow>) -> ApiResult<Bytes> {
    let mut out = Vec::with_capacity(rows.len() * 512);
    for row in rows {
        serde_json::to_writer(&mut out, &PrivacyRequest::from_row(row)?)
            .map_err(ApiError::internal)?;
        out.push(b'\n');
    }
    Ok(Bytes::from(out))
}

/// Streams every matching request, one bounded query at a time.
fn stream(state: std::sync::Arc<AppState>, filter: Filter) -> HttpResponse {
    let body = futures_util::stream::unfold(Some(None::<Uuid>), move |cursor| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            let after = cursor?;
            let result = state
                .db
                .run(move |conn| model::list(conn, &filter, after, STREAM_CHUNK))
                .await;
            match result {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let last = rows.last().map(|r| r.id);
                    let more = rows.len() as i64 == STREAM_CHUNK;
                    Some((ndjson(rows), more.then_some(last)))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body)
}

/// Loads the request for a change: 404, 412 on a stale `If-Match`, 409 once closed.
fn lock_open(conn: &mut diesel::PgConnection, id: Uuid, expected: i32) -> ApiResult<RequestRow> {
    let row = model::lock(conn, id)?;
    if row.version != expected {
        return Err(precondition::stale("privacy request"));
    }
    if row.status == RequestStatus::Closed.as_str() {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "request-closed",
            "the request is closed",
        ));
    }
    Ok(row)
}

/// Extends the deadline to three months after receipt.
///
/// Allowed once, and only while the original deadline has not passed: neither today's
/// Europe/Tallinn date nor that of `subject_informed_at` may be after the original `due_on`
/// (409 `extension-too-late`). The new `due_on` follows the same rule as the first, with three
/// months. `If-Match` with the request's `ETag` is required. Logged as `request.update`.
#[utoipa::path(post, path = paths::PRIVACY_REQUEST_EXTEND, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The request's id"),
        ("If-Match" = String, Header, description = "The `ETag` last read"),
    ),
    request_body = Extension,
    responses(
        (status = 200, description = "Extended", body = PrivacyRequest, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields (a missing reason, a future or too early `subject_informed_at`), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`extension-too-late`, `already-extended`, or `request-closed`", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Precondition, Unavailable,
    ))]
pub async fn extend_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: BodyAfterAuth<Extension>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsWrite, Action::RequestUpdate, None)
        .await?;
    let body = body.read().await?;
    let expected = precondition::expected_version(req.headers(), "privacy request")?;
    let id = id.into_inner();
    let actor = caller.clone();
    let key = idempotency::Key::of(&req, &caller)?;
    let answer = state
        .db
        .transaction(move |conn| {
            keyed_update(conn, key.as_ref(), &actor, |conn| {
                extend(conn, &actor, id, expected, body)
            })
        })
        .await?;
    Ok(answer.respond())
}

fn extend(
    conn: &mut diesel::PgConnection,
    actor: &Caller,
    id: Uuid,
    expected: i32,
    body: Extension,
) -> ApiResult<RequestRow> {
    let mut row = lock_open(conn, id, expected)?;
    if body.subject_informed_at < row.received_at {
        return Err(ApiError::invalid_field(
            "subject_informed_at",
            "must not be before the request was received",
        ));
    }
    if row.extended {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "already-extended",
            "the deadline was already extended; it can be extended once",
        ));
    }
    let today = tallinn_date(Utc::now());
    if today > row.original_due_on || tallinn_date(body.subject_informed_at) > row.original_due_on {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "extension-too-late",
            format!(
                "the original deadline {} has passed: an extension must be made, and \
                 the person told, by then",
                row.original_due_on
            ),
        ));
    }
    row.due_on = deadline(row.received_on, EXTENDED_MONTHS)?;
    row.extended = true;
    row.extension_reason = trimmed(Some(body.reason));
    row.subject_informed_at = Some(body.subject_informed_at.trunc_subsecs(6));
    save(conn, actor, row)
}

/// Closes a request with its outcome.
///
/// `refused` needs a `reason`. An erasure request closes as `fulfilled` only once its subject
/// has been erased (409 `request-not-fulfilled`). A closed request cannot be closed again
/// (409 `request-closed`). `If-Match` with the request's `ETag` is required. Logged as
/// `request.update`.
#[utoipa::path(post, path = paths::PRIVACY_REQUEST_CLOSE, tag = "privacy-requests", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The request's id"),
        ("If-Match" = String, Header, description = "The `ETag` last read"),
    ),
    request_body = Closing,
    responses(
        (status = 200, description = "Closed", body = PrivacyRequest, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields (an unknown outcome, a refusal without a reason), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request-not-fulfilled` or `request-closed`", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Precondition, Unavailable,
    ))]
pub async fn close_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: BodyAfterAuth<Closing>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsWrite, Action::RequestUpdate, None)
        .await?;
    let body = body.read().await?;
    let expected = precondition::expected_version(req.headers(), "privacy request")?;
    let id = id.into_inner();
    let actor = caller.clone();
    let key = idempotency::Key::of(&req, &caller)?;
    let answer = state
        .db
        .transaction(move |conn| {
            keyed_update(conn, key.as_ref(), &actor, |conn| {
                close(conn, &actor, id, expected, body)
            })
        })
        .await?;
    Ok(answer.respond())
}

fn close(
    conn: &mut diesel::PgConnection,
    actor: &Caller,
    id: Uuid,
    expected: i32,
    body: Closing,
) -> ApiResult<RequestRow> {
    let mut row = lock_open(conn, id, expected)?;
    let erasure = row.kind == RequestKind::Erasure.as_str();
    if erasure && body.outcome == RequestOutcome::Fulfilled {
        let erased = match row.subject_id {
            Some(subject) => model::subject_erased(conn, subject)?,
            None => false,
        };
        if !erased {
            return Err(ApiError::client(
                StatusCode::CONFLICT,
                "request-not-fulfilled",
                "an erasure request is fulfilled only once its subject is erased: \
                 erase the subject (naming this request), then close it",
            ));
        }
    }
    row.status = RequestStatus::Closed.as_str().to_owned();
    row.outcome = Some(body.outcome.as_str().to_owned());
    row.outcome_reason = trimmed(body.reason);
    row.closed_at = Some(now());
    save(conn, actor, row)
}

/// Stores a change with a new version and its `request.update` entry.
fn save(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    mut row: RequestRow,
) -> ApiResult<RequestRow> {
    row.version += 1;
    row.updated_at = now();
    model::update(conn, &row)?;
    access_log::record(
        conn,
        &[entry(caller, Action::RequestUpdate, row.subject_id)],
    )?;
    Ok(row)
}
