//! The lists of privacy requests that compliance scripts read: filtered, keyset-paged, or
//! streamed whole as NDJSON.

use super::api::PrivacyRequest;
use super::model::{self, Filter, RequestRow};
use super::routes::entry;
use crate::access_log::Action;
use crate::auth::Scope;
use crate::caller::Caller;
use crate::db::stream::keyset_stream;
use crate::domain::ids::PrivacyRequestId;
use crate::domain::privacy_request::{RequestKind, RequestStatus};
use crate::error::{ApiError, ApiResult, Problem};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::responses::{Auth, LogUnavailable, RequestsRead};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDate;
use std::collections::HashMap;

/// Rows fetched per query while streaming.
const STREAM_CHUNK: i64 = 1000;

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
    let cursor = params.cursor::<PrivacyRequestId>();
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
    let fetch =
        move |conn: &mut diesel::PgConnection, after, n| model::list(conn, &filter, after, n);
    let key: fn(&RequestRow) -> PrivacyRequestId = |r| r.id;
    let body = keyset_stream(state.db.clone(), STREAM_CHUNK, fetch, key, ndjson);
    HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body)
}
