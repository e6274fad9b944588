//! The breach register's reads: the register itself (JSON or CSV) and the persons a breach
//! touched. Each is logged as one `breach.read` entry with its count.

use super::api::{Affected, Breach};
use super::model::{self};
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::ids::BreachId;
use crate::error::{ApiResult, Problem};
use crate::pagination::{Page, PageParams, Params};
use crate::paths;
use crate::responses::{Auth, BadId, BreachesRead, LogUnavailable};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use std::collections::HashMap;

/// The breach register (Art. 33(5)), in JSON or CSV.
///
/// `status` filters; `format=csv` gives one spreadsheet-safe row per breach. Logged as one
/// `breach.read` entry with the number of breaches.
#[utoipa::path(get, path = paths::BREACHES, tag = "breaches", security(("bearer" = [])),
    params(
        ("status" = Option<String>, Query, description = "`open` or `closed`"),
        ("format" = Option<String>, Query, description = "`json` (the default) or `csv`"),
    ),
    responses(
        (status = 200, description = "Every breach", body = Page<Breach>,
            content((Page<Breach> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesRead>, LogUnavailable,
    ))]
pub async fn list_breaches(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::BreachesRead, Action::BreachRead, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let status = params.with("status", |s| match s {
        "open" | "closed" => Ok(s.to_owned()),
        _ => Err("must be `open` or `closed`".to_owned()),
    });
    let csv = params.with("format", |f| match f {
        "json" => Ok(false),
        "csv" => Ok(true),
        _ => Err("must be `json` or `csv`".to_owned()),
    });
    params.finish()?;
    let items = state
        .db
        .run(move |conn| {
            model::list(conn, status.as_deref())?
                .into_iter()
                .map(|row| model::breach(conn, row))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    let entry = caller
        .entry(Action::BreachRead, None, Outcome::Allowed)
        .with_count(items.len());
    state.log_reads(vec![entry]).await?;
    if csv.unwrap_or(false) {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(super::csv::register(&items)));
    }
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// The persons a breach touched, by id (kept after erasure, with `erased`).
///
/// Logged as one `breach.read` entry with the number of ids returned.
#[utoipa::path(get, path = paths::BREACH_SUBJECTS, tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The breach's id"), PageParams),
    responses(
        (status = 200, description = "A page of persons", body = Page<Affected>),
        (status = 404, description = "No such breach", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesRead>, BadId, LogUnavailable,
    ))]
pub async fn list_affected(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<BreachId>,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::BreachesRead, Action::BreachRead, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let limit = params.limit();
    let cursor = params.cursor::<uuid::Uuid>();
    params.finish()?;
    let id = id.into_inner();
    let rows: Vec<Affected> = state
        .db
        .run(move |conn| {
            model::find(conn, id, false)?;
            use diesel::sql_types::{BigInt, Uuid as SqlUuid};
            Ok(diesel::sql_query(
                "SELECT b.subject_id, b.via, s.erased_at IS NOT NULL AS erased
                 FROM breach_subjects b JOIN subjects s ON s.id = b.subject_id
                 WHERE b.breach_id = $1 AND b.subject_id > $2 ORDER BY b.subject_id LIMIT $3",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(cursor.unwrap_or(uuid::Uuid::nil()))
            .bind::<BigInt, _>(limit + 1)
            .load(conn)?)
        })
        .await?;
    let page = Page::from_rows(rows, limit, |a| a.subject_id.to_string());
    let entry = caller
        .entry(Action::BreachRead, None, Outcome::Allowed)
        .with_count(page.items.len());
    state.log_reads(vec![entry]).await?;
    Ok(HttpResponse::Ok().json(page))
}
