//! The conformance report: what the register declares, compared with what the disclosure ledger
//! and the access log show, each event judged against the activities active (as they stood at
//! the end of the day) on its Europe/Tallinn date.
//!
//! Each query first folds its events into groups per day (a few thousand rows however many
//! events), then compares the groups with the activities of their day, so the cost is one scan
//! of the window's events.

use super::model;
use super::register::{date, end_of};
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::paths;
use crate::responses::{Auth, LogUnavailable, RopaRead};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// The longest window, in days.
pub const MAX_DAYS: i64 = 400;

/// Disclosures of a data category to a category of recipient that no active activity declared.
#[derive(Debug, Serialize, ToSchema, QueryableByName)]
pub struct UndeclaredDisclosure {
    #[diesel(sql_type = Text)]
    pub recipient_category: String,
    #[diesel(sql_type = Text)]
    pub data_category: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    #[diesel(sql_type = Timestamptz)]
    pub first_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub last_at: DateTime<Utc>,
}

/// A recipient that received data while no active activity declared its category.
#[derive(Debug, Serialize, ToSchema, QueryableByName)]
pub struct UndeclaredRecipient {
    #[diesel(sql_type = SqlUuid)]
    pub recipient_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Staff reads that named no activity active on their day.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct UnboundReads {
    pub count: i64,
    pub by_action: BTreeMap<String, i64>,
}

/// An activity active at the end of the window that lacks what Art. 30(1) asks for.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncompleteActivity {
    #[schema(value_type = uuid::Uuid)]
    pub id: crate::domain::ids::ActivityId,
    /// `legal_basis`, `retention`.
    pub missing: Vec<String>,
}

/// The report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Conformance {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub undeclared_disclosures: Vec<UndeclaredDisclosure>,
    pub undeclared_recipients: Vec<UndeclaredRecipient>,
    pub unbound_reads: UnboundReads,
    pub incomplete_activities: Vec<IncompleteActivity>,
}

#[derive(QueryableByName)]
struct ActionCount {
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Each activity active at the end of each day of the window ($1..$2), as it then stood.
const DAY_STATE: &str = "
days AS (SELECT d::date AS day FROM generate_series($1::date, $2::date, interval '1 day') d),
day_state AS (
    SELECT days.day, v.activity_id, v.doc
    FROM days CROSS JOIN LATERAL (
        SELECT DISTINCT ON (activity_id) activity_id, status, doc
        FROM processing_activity_versions
        WHERE changed_at < ((days.day + 1)::timestamp AT TIME ZONE 'Europe/Tallinn')
        ORDER BY activity_id, version DESC
    ) v
    WHERE v.status = 'active'
),
declared AS (
    SELECT DISTINCT ds.day, rc AS recipient_category, dc AS data_category
    FROM day_state ds,
         jsonb_array_elements_text(ds.doc -> 'recipient_categories') rc,
         jsonb_array_elements_text(ds.doc -> 'data_categories') dc
),
events AS (
    SELECT (d.at AT TIME ZONE 'Europe/Tallinn')::date AS day, d.recipient_id, c AS data_category,
           count(*) AS n, min(d.at) AS first_at, max(d.at) AS last_at
    FROM disclosures d, unnest(d.data_categories) c
    WHERE d.at >= $3 AND d.at < $4
    GROUP BY 1, 2, 3
)";

const UNDECLARED_DISCLOSURES: &str = "
SELECT r.category AS recipient_category, e.data_category, sum(e.n)::bigint AS count,
       min(e.first_at) AS first_at, max(e.last_at) AS last_at
FROM events e JOIN recipients r ON r.id = e.recipient_id
WHERE NOT EXISTS (SELECT 1 FROM declared x WHERE x.day = e.day
                  AND x.recipient_category = r.category AND x.data_category = e.data_category)
GROUP BY 1, 2 ORDER BY 1, 2";

const UNDECLARED_RECIPIENTS: &str = "
SELECT r.id AS recipient_id, r.name, r.category, sum(e.n)::bigint AS count
FROM events e JOIN recipients r ON r.id = e.recipient_id
WHERE NOT EXISTS (SELECT 1 FROM declared x WHERE x.day = e.day
                  AND x.recipient_category = r.category)
GROUP BY 1, 2, 3 ORDER BY 1";

/// Staff reads (actions `*.read`, `*.list`, `*.export`, `access_response.*`) whose stated purpose
/// names no activity active on their day.
const UNBOUND_READS: &str = "
reads AS (
    SELECT (a.at AT TIME ZONE 'Europe/Tallinn')::date AS day, a.action, lower(a.purpose) AS purpose,
           count(*) AS n
    FROM access_log a
    WHERE a.at >= $3 AND a.at < $4 AND a.outcome = 'allowed' AND a.recipient_id IS NULL
      AND a.actor NOT LIKE 'subject:%' AND a.actor NOT LIKE 'link:%'
      AND a.actor NOT LIKE 'system:%'
      AND (a.action LIKE '%.read' OR a.action LIKE '%.list' OR a.action LIKE '%.export'
           OR a.action LIKE 'access\\_response.%')
    GROUP BY 1, 2, 3
)
SELECT r.action, sum(r.n)::bigint AS count
FROM reads r
WHERE r.purpose IS NULL OR NOT EXISTS (
    SELECT 1 FROM day_state ds
    WHERE ds.day = r.day AND r.purpose = 'activity:' || ds.activity_id::text)
GROUP BY 1 ORDER BY 1";

/// Computes the report for the Tallinn dates `from` through `to`.
pub fn report(conn: &mut PgConnection, from: NaiveDate, to: NaiveDate) -> ApiResult<Conformance> {
    let start = end_of(from.pred_opt().unwrap_or(from))?;
    let end = end_of(to)?;
    macro_rules! bound {
        ($sql:expr) => {
            diesel::sql_query($sql)
                .bind::<Date, _>(from)
                .bind::<Date, _>(to)
                .bind::<Timestamptz, _>(start)
                .bind::<Timestamptz, _>(end)
        };
    }
    let undeclared_disclosures =
        bound!(format!("WITH {DAY_STATE} {UNDECLARED_DISCLOSURES}")).load(conn)?;
    let undeclared_recipients =
        bound!(format!("WITH {DAY_STATE} {UNDECLARED_RECIPIENTS}")).load(conn)?;
    let reads: Vec<ActionCount> =
        bound!(format!("WITH {DAY_STATE}, {UNBOUND_READS}")).load(conn)?;
    let mut unbound_reads = UnboundReads::default();
    for r in reads {
        unbound_reads.count += r.count;
        unbound_reads.by_action.insert(r.action, r.count);
    }
    let incomplete_activities = model::active_at(conn, end)?
        .into_iter()
        .filter_map(|v| {
            let missing: Vec<String> = ["legal_basis", "retention"]
                .into_iter()
                .filter(|field| v.doc.get(field).is_none_or(serde_json::Value::is_null))
                .map(str::to_owned)
                .collect();
            (!missing.is_empty()).then_some(IncompleteActivity {
                id: v.activity_id,
                missing,
            })
        })
        .collect();
    Ok(Conformance {
        from,
        to,
        undeclared_disclosures,
        undeclared_recipients,
        unbound_reads,
        incomplete_activities,
    })
}

/// Compares the register with what happened between two Europe/Tallinn dates.
///
/// `undeclared_disclosures`: disclosures (staff records and partner reads) of a data category
/// to a category of recipient that no activity active on that day declared;
/// `undeclared_recipients`: recipients whose category no active activity declared;
/// `unbound_reads`: staff reads whose `X-Access-Purpose` named no activity active on that day;
/// `incomplete_activities`: activities active at the end of `to` without a legal basis or a
/// retention. `from` through `to` spans at most 400 days. Logged as one `access_log.read`
/// entry with the number of events compared.
#[utoipa::path(get, path = paths::ROPA_CONFORMANCE, tag = "records-of-processing", security(("bearer" = [])),
    params(
        ("from" = NaiveDate, Query, description = "The first day (Europe/Tallinn)"),
        ("to" = NaiveDate, Query, description = "The last day, not before `from`, at most 400 days later"),
    ),
    responses(
        (status = 200, description = "The report", body = Conformance),
        (status = 400, description = "A bad, missing or too wide window, named", body = Problem, content_type = "application/problem+json"),
        Auth<RopaRead>, LogUnavailable,
    ))]
pub async fn conformance(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::RopaRead, Action::AccessLogRead, None)
        .await?;
    let query = query.into_inner();
    let missing: Vec<_> = ["from", "to"]
        .into_iter()
        .filter(|name| !query.contains_key(*name))
        .map(|name| crate::error::FieldError::new(name, "is required"))
        .collect();
    let mut params = crate::pagination::Params::new(query);
    let from = params.with("from", date);
    let to = params.with("to", date);
    params.finish()?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::invalid(missing));
    };
    if to < from || (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid_field(
            "to",
            format!("must be on or after `from` and span at most {MAX_DAYS} days"),
        ));
    }
    let report = state.db.run(move |conn| report(conn, from, to)).await?;
    let events: i64 = report
        .undeclared_disclosures
        .iter()
        .map(|d| d.count)
        .sum::<i64>()
        + report.unbound_reads.count;
    let entry = caller
        .entry(Action::AccessLogRead, None, Outcome::Allowed)
        .with_count(usize::try_from(events).unwrap_or(usize::MAX));
    state.log_reads(vec![entry]).await?;
    Ok(HttpResponse::Ok().json(report))
}
