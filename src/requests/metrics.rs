//! The published figures of privacy requests: per kind, how many were received in a range of
//! days, how they ended, how many closed late, and the nearest-rank median and p90 of the
//! calendar days they took; and the Prometheus histogram of those days, computed from the
//! database at each scrape (so every instance reports the same). Figures only: no entry.

use crate::access_log::Action;
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::deadline::tallinn_date;
use crate::domain::privacy_request::RequestKind;
use crate::domain::working_days::nearest_rank;
use crate::error::{ApiResult, Problem};
use crate::notices::compliance::{range, read_range};
use crate::pagination::Params;
use crate::paths;
use crate::responses::{Auth, RequestsRead, Unavailable};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// The nearest-rank median and 90th percentile of the calendar days from `received_on` to the
/// Europe/Tallinn date of `closed_at`; null when none closed.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DaysToClose {
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

/// The figures of one kind of request.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct KindFigures {
    pub received: i64,
    pub fulfilled: i64,
    pub refused: i64,
    pub withdrawn: i64,
    pub open: i64,
    pub extended: i64,
    /// Closed on a Europe/Tallinn date after `due_on`.
    pub closed_late: i64,
    pub days_to_close: DaysToClose,
}

/// The figures of the requests received in a range of days.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestMetrics {
    /// The first day of the range (`received_on`, Europe/Tallinn).
    pub from: NaiveDate,
    /// The last day of the range, included.
    pub to: NaiveDate,
    /// Every kind, by name.
    pub kinds: BTreeMap<String, KindFigures>,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    received: i64,
    #[diesel(sql_type = BigInt)]
    fulfilled: i64,
    #[diesel(sql_type = BigInt)]
    refused: i64,
    #[diesel(sql_type = BigInt)]
    withdrawn: i64,
    #[diesel(sql_type = BigInt)]
    open: i64,
    #[diesel(sql_type = BigInt)]
    extended: i64,
    #[diesel(sql_type = BigInt)]
    closed_late: i64,
}

/// How many closed requests of a kind took so many days.
#[derive(QueryableByName)]
pub struct Took {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub days: i64,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// The closed requests' days, by kind and number of days, of those received from `$1` to `$2`.
const TOOK: &str = "SELECT kind, \
       ((closed_at AT TIME ZONE 'Europe/Tallinn')::date - received_on)::bigint AS days, \
       count(*) AS count \
     FROM privacy_requests WHERE received_on BETWEEN $1 AND $2 AND status = 'closed' \
     GROUP BY 1, 2 ORDER BY 1, 2";
/// The same for every closed request.
const TOOK_ALL: &str = "SELECT kind, \
       ((closed_at AT TIME ZONE 'Europe/Tallinn')::date - received_on)::bigint AS days, \
       count(*) AS count \
     FROM privacy_requests WHERE status = 'closed' GROUP BY 1, 2 ORDER BY 1, 2";

fn figures(
    conn: &mut PgConnection,
    (from, to): (NaiveDate, NaiveDate),
) -> ApiResult<RequestMetrics> {
    let counted: Vec<Counted> = diesel::sql_query(
        "SELECT kind, count(*) AS received, \
           count(*) FILTER (WHERE outcome = 'fulfilled') AS fulfilled, \
           count(*) FILTER (WHERE outcome = 'refused') AS refused, \
           count(*) FILTER (WHERE outcome = 'withdrawn') AS withdrawn, \
           count(*) FILTER (WHERE status = 'open') AS open, \
           count(*) FILTER (WHERE extended) AS extended, \
           count(*) FILTER (WHERE (closed_at AT TIME ZONE 'Europe/Tallinn')::date > due_on) \
             AS closed_late \
         FROM privacy_requests WHERE received_on BETWEEN $1 AND $2 GROUP BY kind",
    )
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)?;
    let took: Vec<Took> = diesel::sql_query(TOOK)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .load(conn)?;
    let mut kinds: BTreeMap<String, KindFigures> = RequestKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), KindFigures::default()))
        .collect();
    for c in counted {
        kinds.insert(
            c.kind,
            KindFigures {
                received: c.received,
                fulfilled: c.fulfilled,
                refused: c.refused,
                withdrawn: c.withdrawn,
                open: c.open,
                extended: c.extended,
                closed_late: c.closed_late,
                days_to_close: DaysToClose::default(),
            },
        );
    }
    let mut days: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for t in took {
        days.entry(t.kind).or_default().push((t.days, t.count));
    }
    for (kind, sorted) in days {
        if let Some(figures) = kinds.get_mut(&kind) {
            figures.days_to_close = DaysToClose {
                median: nearest_rank(&sorted, 0.5),
                p90: nearest_rank(&sorted, 0.9),
            };
        }
    }
    Ok(RequestMetrics { from, to, kinds })
}

/// Every closed request's days to close, by kind, for the histogram.
pub fn all_days(conn: &mut PgConnection) -> ApiResult<Vec<Took>> {
    Ok(diesel::sql_query(TOOK_ALL).load(conn)?)
}

/// The figures of privacy requests received in a range of days, by kind.
///
/// Over the requests whose `received_on` is from `from` to `to` (both included; default: the
/// 365 days up to today, Europe/Tallinn): how many were received, how they ended, how many are
/// open, extended, and closed late (`closed_at`'s Europe/Tallinn date after `due_on`), and the
/// nearest-rank (rank ⌈p·n⌉) median and p90 of the calendar days from `received_on` to the
/// Europe/Tallinn date of `closed_at` (received 2026-01-31, closed 2026-03-02T10:00:00Z: 30
/// days; 3, 10, 30, 31 → median 10, p90 31), null when none closed. Figures only: no entry.
#[utoipa::path(get, path = paths::PRIVACY_REQUEST_METRICS, tag = "privacy-requests", security(("bearer" = [])),
    operation_id = "privacy_request_metrics",
    params(
        ("from" = Option<NaiveDate>, Query, description = "The first day (YYYY-MM-DD)"),
        ("to" = Option<NaiveDate>, Query, description = "The last day (YYYY-MM-DD), included"),
    ),
    responses(
        (status = 200, description = "The figures", body = RequestMetrics),
        (status = 400, description = "A bad or unknown parameter, or `from` after `to`, each named", body = Problem, content_type = "application/problem+json"),
        Auth<RequestsRead>, Unavailable,
    ))]
pub async fn request_metrics(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::RequestsRead, Action::RequestRead, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let (from, to) = read_range(&mut params);
    params.finish()?;
    let range = range(from, to, tallinn_date(chrono::Utc::now()))?;
    let figures = state.db.run(move |conn| figures(conn, range)).await?;
    Ok(HttpResponse::Ok().json(figures))
}

/// The buckets of `privacy_request_time_to_close_seconds`: 1, 3, 7, 14, 21, 30, 45, 60 and 90
/// days, in seconds (Prometheus's base unit of time).
pub const DAY_BUCKETS: [f64; 9] = [
    86_400.0,
    259_200.0,
    604_800.0,
    1_209_600.0,
    1_814_400.0,
    2_592_000.0,
    3_888_000.0,
    5_184_000.0,
    7_776_000.0,
];

/// The histogram of every closed request's days to close by kind, read at each scrape; nothing
/// when the database cannot be reached.
pub async fn histogram(state: &AppState) -> Option<crate::metrics::ScrapedHistogram> {
    let took = state.db.run(all_days).await.ok()?;
    let mut by_kind: BTreeMap<String, Vec<(f64, u64)>> = RequestKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), Vec::new()))
        .collect();
    for t in took {
        let count = u64::try_from(t.count).unwrap_or(0);
        by_kind
            .entry(t.kind)
            .or_default()
            .push((t.days as f64 * 86_400.0, count));
    }
    Some(crate::metrics::ScrapedHistogram {
        name: "privacy_request_time_to_close_seconds",
        help: "Time from received_on to the Europe/Tallinn date of closed_at, in whole calendar days (86400 s each), of every closed privacy request, by kind",
        buckets: &DAY_BUCKETS,
        series: by_kind.into_iter().collect(),
    })
}
