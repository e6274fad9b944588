//! Handlers of the consent lists: the export (paged, or streamed as NDJSON or CSV) and the
//! grants about to expire.

use super::export::{self, Expiring, ExportedFlag, Filter, Position};
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::db::stream::keyset_stream;
use crate::domain::consent_state::ConsentState;
use crate::domain::deadline::tallinn_date;
use crate::domain::ids::SubjectId;
use crate::domain::purpose_id;
use crate::domain::retention::tallinn_midnight;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::responses::{Auth, ConsentsRead, LogUnavailable};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Days, Utc};
use std::collections::HashMap;
use std::str::FromStr;

/// Rows fetched per query while streaming.
const STREAM_CHUNK: i64 = 2000;

/// Lists stored consent flags with their state computed now, for compliance scripts.
///
/// Filters: `purpose` (else every purpose) and `state` (a computed state; flags never recorded
/// are not stored and not listed). Erased subjects are not listed. With `Accept:
/// application/x-ndjson` or `text/csv` every matching flag is streamed in constant memory; CSV
/// cells that a spreadsheet would run as a formula are prefixed with `'`. One
/// `consent.export` entry with no subject (`count`: the flags of a page).
#[utoipa::path(get, path = paths::CONSENTS, tag = "consents", security(("bearer" = [])),
    params(
        ("purpose" = Option<String>, Query, description = "Only this purpose's flags"),
        ("state" = Option<ConsentState>, Query, description = "Only flags in this state now"),
        crate::pagination::PageParams,
    ),
    responses(
        (status = 200, description = "A page of flags; or every flag as NDJSON or CSV", body = Page<ExportedFlag>,
            content((Page<ExportedFlag> = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 400, description = "A bad parameter; `errors` names each", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purpose", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsRead>, LogUnavailable,
    ))]
pub async fn export_consents(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::ConsentsRead, Action::ConsentExport, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let purpose = params.text("purpose", purpose_id::MAX_LEN);
    let wanted = params.with("state", ConsentState::parse);
    let limit = params.limit();
    let after = params.cursor::<Position>();
    params.finish()?;
    let filter = state
        .db
        .run(move |conn| {
            let mut purposes: Vec<String> = super::model::list_purposes(conn)?
                .into_iter()
                .map(|(p, _)| p.id)
                .collect();
            purposes.sort();
            if let Some(one) = purpose {
                if !purposes.contains(&one) {
                    return Err(ApiError::not_found("purpose"));
                }
                purposes = vec![one];
            }
            Ok(Filter {
                purposes,
                state: wanted,
            })
        })
        .await?;
    let entry = caller.entry(Action::ConsentExport, None, Outcome::Allowed);
    let format = Format::wanted(&req);
    if format == Format::Json {
        let rows = state
            .db
            .run(move |conn| export::page(conn, &filter, after, limit + 1))
            .await?;
        let page = Page::from_rows(rows, limit, ExportedFlag::cursor);
        state
            .log_reads(vec![entry.with_count(page.items.len())])
            .await?;
        return Ok(HttpResponse::Ok().json(page));
    }
    state.log_reads(vec![entry]).await?;
    let fetch =
        move |conn: &mut diesel::PgConnection, after, n| export::page(conn, &filter, after, n);
    let key: fn(&ExportedFlag) -> Position = ExportedFlag::position;
    let encode = move |rows: Vec<ExportedFlag>| Ok(format.encode(&rows));
    let body = keyset_stream(state.db.clone(), STREAM_CHUNK, fetch, key, encode);
    let head = (format == Format::Csv).then(|| Bytes::from_static(CSV_HEADER.as_bytes()));
    let head = futures_util::stream::iter(head.map(Ok::<_, ApiError>));
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .streaming(futures_util::StreamExt::chain(head, body)))
}

const CSV_HEADER: &str =
    "subject_id,purpose,status,state,eligible,purpose_version,given_at,expires_at,updated_at\n";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Ndjson,
    Csv,
}

impl Format {
    fn wanted(req: &HttpRequest) -> Self {
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.contains("application/x-ndjson") {
            Self::Ndjson
        } else if accept.contains("text/csv") {
            Self::Csv
        } else {
            Self::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            _ => "application/x-ndjson",
        }
    }

    fn encode(self, rows: &[ExportedFlag]) -> Bytes {
        let time = |t: Option<chrono::DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
                .unwrap_or_default()
        };
        let mut out = String::with_capacity(rows.len() * 200);
        for f in rows {
            if self == Self::Csv {
                crate::csv::row(
                    &mut out,
                    &[
                        f.subject_id.to_string(),
                        f.purpose.clone(),
                        f.status.clone(),
                        f.state.clone(),
                        f.eligible.to_string(),
                        f.purpose_version.to_string(),
                        time(f.given_at),
                        time(f.expires_at),
                        time(Some(f.updated_at)),
                    ],
                );
                continue;
            } else if let Ok(line) = serde_json::to_string(f) {
                out.push_str(&line);
            }
            out.push('\n');
        }
        Bytes::from(out)
    }
}

/// The page key of the expiring list: a subject and a purpose.
struct After(SubjectId, String);

impl FromStr for After {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (subject, purpose) = text.split_once('/').ok_or(())?;
        Ok(Self(subject.parse().map_err(|_| ())?, purpose.to_owned()))
    }
}

/// Lists the grants in force (`given`, `renewed`) whose last valid day D (Tallinn) is at most
/// today (Tallinn) + `within_days` (0 to 366, default 30), so they can be renewed in time.
///
/// One `consent.read` entry with no subject and the number listed as `count`.
#[utoipa::path(get, path = paths::CONSENTS_EXPIRING, tag = "consents", security(("bearer" = [])),
    params(
        ("purpose" = Option<String>, Query, description = "Only this purpose's grants"),
        ("within_days" = Option<u32>, Query, description = "0 to 366 (default 30)"),
        crate::pagination::PageParams,
    ),
    responses(
        (status = 200, description = "A page of grants about to expire", body = Page<Expiring>),
        (status = 400, description = "A bad parameter; `errors` names each", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purpose", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsRead>, LogUnavailable,
    ))]
pub async fn expiring(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::ConsentsRead, Action::ConsentRead, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let purpose = params.text("purpose", purpose_id::MAX_LEN);
    let within = params.with("within_days", |raw| match raw.parse::<u64>() {
        Ok(n) if n <= 366 => Ok(n),
        _ => Err("must be a whole number from 0 to 366".to_owned()),
    });
    let limit = params.limit();
    let after = params.cursor::<After>();
    params.finish()?;
    let last_day = tallinn_date(Utc::now())
        .checked_add_days(Days::new(within.unwrap_or(30) + 1))
        .and_then(tallinn_midnight)
        .ok_or_else(|| ApiError::internal("a date past the calendar"))?;
    let rows = state
        .db
        .run(move |conn| {
            if let Some(one) = &purpose {
                super::model::find_purpose(conn, one)?
                    .ok_or_else(|| ApiError::not_found("purpose"))?;
            }
            let after = after.map(|a| (a.0, a.1));
            export::expiring(conn, purpose.as_deref(), last_day, after, limit + 1)
        })
        .await?;
    let page = Page::from_rows(rows, limit, |e| format!("{}/{}", e.subject_id, e.purpose));
    let entry = caller.entry(Action::ConsentRead, None, Outcome::Allowed);
    state
        .log_reads(vec![entry.with_count(page.items.len())])
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
