//! A recipient's compliance figures: how many of the notices it was told to act on it answered,
//! how, how late, and the median of the working days it took (nearest rank). Counts only, read
//! from one index (`notices_recipient_queued`); no subject is named, so no entry is written.

use crate::access_log::Action;
use crate::auth::Scope;
use crate::caller::Caller;
use crate::db::schema::recipients;
use crate::domain::deadline::tallinn_date;
use crate::domain::ids::RecipientId;
use crate::domain::working_days::{nearest_rank, working_days_between};
use crate::error::{ApiError, ApiResult, Problem};
use crate::pagination::Params;
use crate::paths;
use crate::responses::{Auth, BadId, NotificationsRead, RecipientsRead, Unavailable};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{Datelike, Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Uuid as SqlUuid};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// A recipient's answers to the notices queued in a range of days.
#[derive(Debug, Serialize, ToSchema)]
pub struct Compliance {
    #[schema(value_type = uuid::Uuid)]
    pub recipient_id: RecipientId,
    /// The first Europe/Tallinn day of the range.
    pub from: NaiveDate,
    /// The last Europe/Tallinn day of the range (included).
    pub to: NaiveDate,
    /// Notices queued in the range that take an outcome (erased, rectified, restricted).
    pub notices: i64,
    pub done: i64,
    pub not_held: i64,
    pub refused: i64,
    /// Without an outcome.
    pub pending: i64,
    /// Without an outcome and past `outcome_due_on` (before today's Europe/Tallinn date).
    pub overdue: i64,
    /// Answered with a `completed_at` whose Europe/Tallinn date is after `outcome_due_on`.
    pub answered_late: i64,
    /// The nearest-rank median of the working days from the queued date to `completed_at`'s
    /// Europe/Tallinn date, over the answered notices; null when none is answered.
    pub median_working_days: Option<i64>,
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    notices: i64,
    #[diesel(sql_type = BigInt)]
    done: i64,
    #[diesel(sql_type = BigInt)]
    not_held: i64,
    #[diesel(sql_type = BigInt)]
    refused: i64,
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
    #[diesel(sql_type = BigInt)]
    answered_late: i64,
}

#[derive(QueryableByName)]
struct Took {
    #[diesel(sql_type = Date)]
    queued: NaiveDate,
    #[diesel(sql_type = Date)]
    completed: NaiveDate,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// The range's notices: queued from `$2`'s Tallinn midnight to before `$3`'s.
const RANGE: &str = "FROM notices WHERE recipient_id = $1 AND outcome_due_on IS NOT NULL \
     AND created_at >= ($2::timestamp AT TIME ZONE 'Europe/Tallinn') \
     AND created_at < ($3::timestamp AT TIME ZONE 'Europe/Tallinn')";

/// Reads a day parameter (YYYY-MM-DD, not before 1900).
pub fn read_day(params: &mut Params, name: &str) -> Option<NaiveDate> {
    params.with(name, |raw| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .filter(|d| d.year() >= 1900)
            .ok_or_else(|| "must be a date such as 2026-12-01, not before 1900-01-01".to_owned())
    })
}

/// The range of `from` and `to` (defaults: the year up to today), or 400 naming both when
/// `from` is after `to`.
pub fn read_range(params: &mut Params) -> (Option<NaiveDate>, Option<NaiveDate>) {
    (read_day(params, "from"), read_day(params, "to"))
}

/// Resolves the range's defaults and checks its order.
pub fn range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> ApiResult<(NaiveDate, NaiveDate)> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(364));
    if from > to {
        return Err(ApiError::invalid(vec![
            crate::error::FieldError::new("from", "must not be after `to`"),
            crate::error::FieldError::new("to", "must not be before `from`"),
        ]));
    }
    Ok((from, to))
}

fn figures(
    conn: &mut PgConnection,
    recipient: RecipientId,
    (from, to): (NaiveDate, NaiveDate),
    today: NaiveDate,
) -> ApiResult<Compliance> {
    let known: Option<RecipientId> = recipients::table
        .find(recipient)
        .select(recipients::id)
        .first(conn)
        .optional()?;
    if known.is_none() {
        return Err(ApiError::not_found("recipient"));
    }
    let end = to + Duration::days(1);
    let counts: Counts = diesel::sql_query(format!(
        "SELECT count(*) AS notices, \
           count(*) FILTER (WHERE outcome = 'done') AS done, \
           count(*) FILTER (WHERE outcome = 'not_held') AS not_held, \
           count(*) FILTER (WHERE outcome = 'refused') AS refused, \
           count(*) FILTER (WHERE outcome IS NULL) AS pending, \
           count(*) FILTER (WHERE outcome IS NULL AND outcome_due_on < $4) AS overdue, \
           count(*) FILTER (WHERE (completed_at AT TIME ZONE 'Europe/Tallinn')::date \
             > outcome_due_on) AS answered_late {RANGE}"
    ))
    .bind::<SqlUuid, _>(recipient)
    .bind::<Date, _>(from)
    .bind::<Date, _>(end)
    .bind::<Date, _>(today)
    .get_result(conn)?;
    // Working days need the holiday calendar: counted per distinct (queued, completed) pair.
    let took: Vec<Took> = diesel::sql_query(format!(
        "SELECT (created_at AT TIME ZONE 'Europe/Tallinn')::date AS queued, \
           (completed_at AT TIME ZONE 'Europe/Tallinn')::date AS completed, count(*) AS count \
         {RANGE} AND outcome IS NOT NULL GROUP BY 1, 2"
    ))
    .bind::<SqlUuid, _>(recipient)
    .bind::<Date, _>(from)
    .bind::<Date, _>(end)
    .get_results(conn)?;
    let mut days: HashMap<i64, i64> = HashMap::new();
    for t in took {
        *days
            .entry(working_days_between(t.queued, t.completed))
            .or_default() += t.count;
    }
    let mut days: Vec<(i64, i64)> = days.into_iter().collect();
    days.sort_unstable();
    Ok(Compliance {
        recipient_id: recipient,
        from,
        to,
        notices: counts.notices,
        done: counts.done,
        not_held: counts.not_held,
        refused: counts.refused,
        pending: counts.pending,
        overdue: counts.overdue,
        answered_late: counts.answered_late,
        median_working_days: nearest_rank(&days, 0.5),
    })
}

/// A recipient's compliance figures for the notices queued in a range of days.
///
/// Over the `subject.erased`, `subject.rectified` and `subject.restricted` notices to the
/// recipient queued from `from` to `to` (Europe/Tallinn dates, both included; default: the 365
/// days up to today): how many, their outcomes, how many are pending and overdue, how many were
/// answered late, and the nearest-rank median of the working days from the queued date to
/// `completed_at`'s date (2026-12-21 → 2026-12-28: 3). Needs `recipients:read` and
/// `notifications:read`. Counts only: no entry is written.
#[utoipa::path(get, path = paths::RECIPIENT_COMPLIANCE, tag = "recipients", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The recipient's id"),
        ("from" = Option<NaiveDate>, Query, description = "The first day (YYYY-MM-DD, Europe/Tallinn)"),
        ("to" = Option<NaiveDate>, Query, description = "The last day (YYYY-MM-DD, Europe/Tallinn), included"),
    ),
    responses(
        (status = 200, description = "The figures", body = Compliance),
        (status = 400, description = "A bad or unknown parameter, or `from` after `to`, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipient", body = Problem, content_type = "application/problem+json"),
        Auth<RecipientsRead>, Auth<NotificationsRead>, BadId, Unavailable,
    ))]
pub async fn compliance(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<RecipientId>,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    for scope in [Scope::RecipientsRead, Scope::NotificationsRead] {
        state
            .authorize(&caller, scope, Action::NotificationRead, None)
            .await?;
    }
    let mut params = Params::new(query.into_inner());
    let (from, to) = read_range(&mut params);
    params.finish()?;
    let today = tallinn_date(chrono::Utc::now());
    let range = range(from, to, today)?;
    let recipient = id.into_inner();
    let figures = state
        .db
        .run(move |conn| figures(conn, recipient, range, today))
        .await?;
    Ok(HttpResponse::Ok().json(figures))
}
