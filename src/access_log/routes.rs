//! The access log's own endpoints: search (paged, or streamed whole as NDJSON or CSV), one
//! subject's entries, and verification of the hash chain.

use super::model::{self, Entry, Filter};
use super::verify::{self, Verification};
use super::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::db::stream::keyset_stream;
use crate::error::{ApiResult, Problem};
use crate::pagination::{Page, PageParams, Params, SortOrder};
use crate::paths;
use crate::responses::{AccessLogsRead, Auth, LogUnavailable, Unavailable};
use crate::state::AppState;
use crate::subjects::path::SubjectPath;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Registers the access-log routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/access-logs").route(web::get().to(search)))
        .service(web::resource("/v1/access-logs/verify").route(web::get().to(verify)))
        .service(
            web::resource("/v1/subjects/{id}/access-logs").route(web::get().to(subject_entries)),
        );
}

/// Rows fetched per query while streaming.
const STREAM_CHUNK: i64 = 1000;

fn parse_time(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 timestamp such as 2026-11-01T10:00:00Z".to_owned())
}

fn read_filter(params: &mut Params) -> Filter {
    Filter {
        subject_id: params.parsed("subject_id", "a UUID"),
        actor: params.text("actor", 200),
        action: params.with("action", |a| {
            Action::parse(a)
                .map(|a| a.as_str().to_owned())
                .ok_or_else(|| "is not a known action".to_owned())
        }),
        outcome: params.with("outcome", |o| match o {
            "allowed" | "denied" => Ok(o.to_owned()),
            _ => Err("must be `allowed` or `denied`".to_owned()),
        }),
        from: params.with("from", parse_time),
        to: params.with("to", parse_time),
        descending: params
            .with("order", |o| match o {
                "asc" => Ok(false),
                "desc" => Ok(true),
                _ => Err("must be `asc` or `desc`".to_owned()),
            })
            .unwrap_or(false),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Ndjson,
    Csv,
}

fn wanted_format(req: &HttpRequest) -> Format {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/x-ndjson") {
        Format::Ndjson
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    }
}

/// Searches the access log.
///
/// Filters combine with AND; the order is the order of appends (`order=desc` for newest first).
/// With `Accept: application/x-ndjson` or `text/csv` every matching entry is streamed (no paging,
/// constant memory however large the result). The search is itself logged (`access_log.read`).
#[utoipa::path(get, path = paths::ACCESS_LOGS, tag = "access-log", security(("bearer" = [])),
    params(
        ("subject_id" = Option<Uuid>, Query, description = "Entries about this subject"),
        ("actor" = Option<String>, Query, description = "Entries by this actor (the token's `sub`)"),
        ("action" = Option<Action>, Query, description = "Entries of this action"),
        ("outcome" = Option<Outcome>, Query, description = "`allowed` or `denied`"),
        ("from" = Option<DateTime<Utc>>, Query, description = "Entries at or after this time"),
        ("to" = Option<DateTime<Utc>>, Query, description = "Entries before this time"),
        ("order" = Option<SortOrder>, Query, description = "`asc` (default) or `desc`"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of entries; or the whole result as NDJSON or CSV", body = Page<Entry>,
            content((Page<Entry> = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        Auth<AccessLogsRead>, LogUnavailable,
    ))]
pub async fn search(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let mut params = Params::new(query.into_inner());
    let filter = read_filter(&mut params);
    let format = wanted_format(&req);
    state
        .authorize(
            &caller,
            Scope::AccessLogsRead,
            Action::AccessLogRead,
            filter.subject_id,
        )
        .await?;
    // A stream has no pages: `limit` and `cursor` are read (so they are not unknown) and ignored.
    let limit = params.limit();
    let after = params.cursor::<i64>();
    params.finish()?;
    if format == Format::Json {
        return page(&state, &caller, filter, after, limit).await;
    }
    let entry = caller.entry(Action::AccessLogRead, filter.subject_id, Outcome::Allowed);
    state.log_reads(vec![entry]).await?;
    Ok(stream(state.into_inner(), filter, format))
}

async fn page(
    state: &AppState,
    caller: &Caller,
    filter: Filter,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<HttpResponse> {
    let subject = filter.subject_id;
    let rows = state
        .db
        .run(move |conn| model::search(conn, &filter, after, limit + 1))
        .await?;
    let page = Page::from_rows(rows, limit, |e| e.seq.to_string());
    let mut entry = caller.entry(Action::AccessLogRead, subject, Outcome::Allowed);
    if subject.is_none() {
        entry = entry.with_count(page.items.len());
    }
    state.log_reads(vec![entry]).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Writes one CSV cell. A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or
/// a carriage return first: an actor or a stated purpose is caller-chosen text) is prefixed with
/// `'`, which spreadsheets show as text.
fn csv_field(out: &mut String, value: &str) {
    crate::csv::cell(out, value);
}

const CSV_HEADER: &str =
    "id,at,actor,recipient_id,action,subject_id,outcome,purpose,request_id,count\n";

fn encode(rows: &[Entry], format: Format) -> Bytes {
    let mut out = String::with_capacity(rows.len() * 256);
    for e in rows {
        if format == Format::Csv {
            let fields = [
                e.id.to_string(),
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                e.actor.clone(),
                e.recipient_id.map(|r| r.to_string()).unwrap_or_default(),
                e.action.clone(),
                e.subject_id.map(|s| s.to_string()).unwrap_or_default(),
                e.outcome.clone(),
                e.purpose.clone().unwrap_or_default(),
                e.request_id.clone(),
                e.count.map(|c| c.to_string()).unwrap_or_default(),
            ];
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                csv_field(&mut out, f);
            }
        } else if let Ok(line) = serde_json::to_string(e) {
            out.push_str(&line);
        }
        out.push('\n');
    }
    Bytes::from(out)
}

/// Streams every matching entry, one bounded query at a time, so memory stays constant.
fn stream(state: std::sync::Arc<AppState>, filter: Filter, format: Format) -> HttpResponse {
    let header_line = (format == Format::Csv).then(|| Bytes::from_static(CSV_HEADER.as_bytes()));
    let head = futures_util::stream::iter(header_line.map(Ok::<_, crate::error::ApiError>));
    let fetch =
        move |conn: &mut diesel::PgConnection, after, n| model::search(conn, &filter, after, n);
    let key: fn(&Entry) -> i64 = |e| e.seq;
    let encode = move |rows: Vec<Entry>| Ok(encode(&rows, format));
    let body = keyset_stream(state.db.clone(), STREAM_CHUNK, fetch, key, encode);
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        _ => "application/x-ndjson",
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .streaming(futures_util::StreamExt::chain(head, body))
}

/// Lists the access-log entries about one subject: who read or changed their data, when and why.
///
/// Paged like the search; the listing is itself logged (`access_log.read`).
#[utoipa::path(get, path = paths::SUBJECT_ACCESS_LOGS, tag = "access-log", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject"),
        ("order" = Option<SortOrder>, Query, description = "`asc` (default) or `desc`"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of entries", body = Page<Entry>),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        Auth<AccessLogsRead>, Unavailable,
    ))]
pub async fn subject_entries(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let id = path.id();
    let mut params = Params::new(query.into_inner());
    let filter = Filter {
        subject_id: Some(id),
        descending: read_filter(&mut params).descending,
        ..Filter::default()
    };
    let limit = params.limit();
    let after = params.cursor::<i64>();
    state
        .authorize(
            &caller,
            Scope::AccessLogsRead,
            Action::AccessLogRead,
            Some(id),
        )
        .await?;
    params.finish()?;
    page(&state, &caller, filter, after, limit).await
}

/// Verifies the access log's hash chain.
///
/// Seals pending entries first, then recomputes the chain over the entries in `[from, to)` (all
/// when unbounded) and looks for entries that bypassed it. Any changed, removed, inserted or
/// reordered entry makes `ok` false and is named in `first_bad_id`.
#[utoipa::path(get, path = paths::ACCESS_LOG_VERIFY, tag = "access-log", security(("bearer" = [])),
    params(
        ("from" = Option<DateTime<Utc>>, Query, description = "Check entries at or after this time"),
        ("to" = Option<DateTime<Utc>>, Query, description = "Check entries before this time"),
    ),
    responses(
        (status = 200, description = "The verdict", body = Verification),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        Auth<AccessLogsRead>, Unavailable,
    ))]
pub async fn verify(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::AccessLogsRead, Action::AccessLogRead, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let from = params.with("from", parse_time);
    let to = params.with("to", parse_time);
    params.finish()?;
    let proofs = state.sealer.proofs().clone();
    let verdict = state
        .db
        .run_watched(move |conn, progress| {
            verify::verify(conn, from, to, &|| progress.tick(), &proofs)
        })
        .await?;
    Ok(HttpResponse::Ok().json(verdict))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    fn cell(value: &str) -> String {
        let mut out = String::new();
        csv_field(&mut out, value);
        out
    }

    #[test]
    fn formula_cells_are_defused_and_plain_ones_kept() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("alice"), "alice");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("a-b=c"), "a-b=c");
        assert_eq!(cell(""), "");
    }
}
