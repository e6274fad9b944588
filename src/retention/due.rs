//! The due list: who is past their keep date on a day, today or ahead for planning.

use super::api::DueSubject;
use super::model::{self, Cutoffs, DueKey};
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::deadline::tallinn_date;
use crate::domain::retention::due_on;
use crate::error::{ApiError, ApiResult, Problem};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::responses::{Auth, LogUnavailable, RetentionRead};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use std::collections::HashMap;

/// Reads `as_of`: a date such as 2026-12-01.
pub fn read_as_of(params: &mut Params) -> Option<NaiveDate> {
    params.with("as_of", |raw| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| "must be a date such as 2026-12-01".to_owned())
    })
}

/// Lists the subjects due for erasure on a day.
///
/// A subject is due on every day after its keep date (the Europe/Tallinn date of its
/// `last_activity_at` plus its kind's `keep_months`), unless it is erased or an active hold
/// covers it. `as_of` defaults to today in Tallinn; a future date plans ahead. Ordered by
/// `last_activity_at`, then id. Logged as one `retention.read` entry with no subject and the
/// number of subjects returned.
#[utoipa::path(get, path = paths::RETENTION_DUE, tag = "retention", security(("bearer" = [])),
    params(
        ("as_of" = Option<NaiveDate>, Query, description = "The day (YYYY-MM-DD); default today in Europe/Tallinn"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of due subjects", body = Page<DueSubject>),
        (status = 400, description = "A bad parameter (such as a malformed `as_of`), named", body = Problem, content_type = "application/problem+json"),
        Auth<RetentionRead>, LogUnavailable,
    ))]
pub async fn list_due(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::RetentionRead, Action::RetentionRead, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let as_of = read_as_of(&mut params).unwrap_or_else(|| tallinn_date(chrono::Utc::now()));
    let limit = params.limit();
    let cursor = params.cursor::<DueKey>();
    params.finish()?;
    let (cutoffs, rows) = state
        .db
        .run(move |conn| {
            let cutoffs = Cutoffs::on(model::all_rules(conn)?, as_of);
            let rows = model::past_keep_date(conn, &cutoffs, cursor, limit + 1, false)?;
            Ok((cutoffs, rows))
        })
        .await?;
    let page = Page::from_rows(rows, limit, |row| row.key().to_string());
    let items = page
        .items
        .into_iter()
        .map(|row| {
            let rule = cutoffs
                .rule_of(&row.kind)
                .ok_or_else(|| ApiError::internal("a due subject without its rule"))?;
            Ok(DueSubject {
                subject_id: row.subject_id,
                rule_id: rule.id,
                last_activity_at: row.last_activity_at,
                due_on: due_on(row.last_activity_at, rule.months())
                    .ok_or_else(|| ApiError::internal("a due date off the calendar"))?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let logged = caller
        .entry(Action::RetentionRead, None, Outcome::Allowed)
        .with_count(items.len());
    state.log_reads(vec![logged]).await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}
