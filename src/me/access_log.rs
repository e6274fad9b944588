//! The person's own access log (`/v1/me/access-log`) and the same in the state data tracker's
//! `findUsage` shape (`/v1/me/usage`, Andmejälgija), each read logged as `access_log.read`
//! about them.

use super::entries::{about, MyEntry, SeenRow, Window};
use super::{resolve, Me};
use crate::access_log::{Action, Outcome};
use crate::caller::Caller;
use crate::domain::language::Language;
use crate::error::{ApiError, Problem};
use crate::pagination::{Page, PageParams, Params, DEFAULT_LIMIT, MAX_LIMIT};
use crate::paths;
use crate::responses::{LogUnavailable, Person};
use crate::rights::access_response::labels::label;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Reads the entries in `window` about the person, then logs the read; nothing is answered
/// unless the entry is written.
async fn read(state: &AppState, me: &Me, window: Window) -> Result<Vec<SeenRow>, ApiError> {
    let subject = me.id;
    let rows = state
        .db
        .run(move |conn| about(conn, subject, &window))
        .await?;
    let logged = me
        .caller
        .entry(Action::AccessLogRead, Some(me.id), Outcome::Allowed);
    state.log_reads(vec![logged]).await?;
    Ok(rows)
}

/// Reads the access log about the person, newest first.
///
/// Every entry about them, refused attempts too: what was done (`action`, with a `label` in
/// Estonian, English and Russian), when, by what kind of actor (`you`, `recipient`, `system`,
/// `staff`; never who: CJEU C-579/21), for which organisation, for what purpose, what was
/// disclosed, and where its inclusion proof is. Logged as `access_log.read` about the person.
#[utoipa::path(get, path = paths::ME_ACCESS_LOG, tag = "me", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of entries, newest first", body = Page<MyEntry>),
        (status = 400, description = "A bad parameter (`limit`, `cursor`, or one the endpoint does not take), named", body = Problem, content_type = "application/problem+json"),
        Person, LogUnavailable,
    ))]
pub async fn my_access_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    let me = resolve(&state, caller, Action::AccessLogRead).await?;
    let answer: actix_web::Result<HttpResponse> = async {
        let mut params = Params::new(query.into_inner());
        let limit = params.limit();
        let before = params.cursor::<i64>();
        params.finish()?;
        let window = Window {
            before,
            skip: 0,
            take: limit + 1,
            others_only: false,
        };
        let rows = read(&state, &me, window).await?;
        let page = Page::from_rows(rows, limit, |r| r.seq.to_string());
        Ok(HttpResponse::Ok().json(Page {
            items: page
                .items
                .into_iter()
                .map(SeenRow::shown)
                .collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        }))
    }
    .await;
    me.settle(&state, Action::AccessLogRead, answer).await
}

/// One use of the person's data, as the state data tracker shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    /// When, to the second (UTC).
    #[schema(example = "2026-12-07T10:15:30Z")]
    pub logtime: String,
    /// What was done, in Estonian.
    #[schema(example = "Andmed väljastati partnerile")]
    pub action: String,
    /// Who received or used the data: the organisation's registry code, else its name.
    #[schema(example = "12345678")]
    pub receiver: String,
}

/// The person's data uses (`findUsage`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageList {
    pub usage: Vec<Usage>,
}

/// Reads how the person's data was used, in the state data tracker's `findUsage` shape.
///
/// The entries of their access log less what they did themselves, newest first. `offset`
/// counts entries from 1 (`offset=101&limit=100` is the second page of 100); a page shorter
/// than `limit` is the last. Logged as `access_log.read` about the person.
#[utoipa::path(get, path = paths::ME_USAGE, tag = "me", security(("bearer" = [])),
    params(
        ("offset" = Option<i64>, Query, minimum = 1, maximum = 2147483647, description = "The first entry to answer, counted from 1 (default 1)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "Entries to answer, 1 to 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "The uses, newest first", body = UsageList),
        (status = 400, description = "A bad `offset` or `limit`, or a parameter the endpoint does not take, named", body = Problem, content_type = "application/problem+json"),
        Person, LogUnavailable,
    ))]
pub async fn my_usage(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    let me = resolve(&state, caller, Action::AccessLogRead).await?;
    let answer: actix_web::Result<HttpResponse> = async {
        let mut params = Params::new(query.into_inner());
        let offset = params.with("offset", |raw| {
            raw.parse::<i64>()
                .ok()
                .filter(|n| (1..=i64::from(i32::MAX)).contains(n))
                .ok_or_else(|| "must be a whole number from 1 to 2147483647".to_owned())
        });
        let limit = params.with("limit", |raw| {
            raw.parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| "must be a whole number from 1 to 1000".to_owned())
        });
        params.finish()?;
        let window = Window {
            before: None,
            skip: offset.unwrap_or(1) - 1,
            take: limit.unwrap_or(DEFAULT_LIMIT),
            others_only: true,
        };
        let usage = read(&state, &me, window)
            .await?
            .into_iter()
            .map(|row| {
                let organisation = row.organisation();
                Usage {
                    logtime: row.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    action: label(&row.action, Language::Et),
                    receiver: organisation.registry_code.unwrap_or(organisation.name),
                }
            })
            .collect();
        Ok(HttpResponse::Ok().json(UsageList { usage }))
    }
    .await;
    me.settle(&state, Action::AccessLogRead, answer).await
}
