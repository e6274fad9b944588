//! Handlers of the breach register. Every entry is about no subject (`subject_id` null); changes
//! write theirs in their transaction; no notices are sent.

use super::api::{
    Affected, Assessment, AuthorityNotification, Breach, BreachPatch, NewBreach, ScopeRequest,
    ScopeSource, Scoped, SubjectCommunication,
};
use super::model::{self, BreachRow};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::BreachId;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Validate;
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, PageParams, Params};
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, BadId, BreachesRead, BreachesWrite, JsonBody, LogUnavailable, Precondition, Unavailable,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, SubsecRound, Utc};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Hours to notify the authority (Art. 33(1)): clock hours, so a DST change does not move it.
pub const NOTIFY_WITHIN_HOURS: i64 = 72;

fn respond(status: StatusCode, breach: &Breach) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("ETag", precondition::etag(breach.version)))
        .json(breach)
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::client(StatusCode::CONFLICT, code, detail.to_owned())
}

/// Records a breach (Art. 33(5)).
///
/// `notify_authority_by` is `aware_at` + 72 clock hours (2026-03-28T22:30:00Z →
/// 2026-03-31T22:30:00Z: 00:30 → 01:30 Tallinn time across the change to summer time). The
/// description is sealed under the service key. Logged as `breach.create` (no subject).
#[utoipa::path(post, path = paths::BREACHES, tag = "breaches", security(("bearer" = [])),
    request_body = NewBreach,
    responses(
        (status = 201, description = "Recorded", body = Breach, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 400, description = "Invalid fields (a future `aware_at`, an empty list, a reversed window), each named", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_breach(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<NewBreach>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::BreachesWrite, Action::BreachCreate, None)
        .await?;
    let body = body.read().await?;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let now = Utc::now().trunc_subsecs(6);
    let aware_at = body.aware_at.trunc_subsecs(6);
    let logged = caller.entry(Action::BreachCreate, None, Outcome::Allowed);
    let actor = caller.actor.sub.clone();
    let keyed = logged.clone();
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&keyed), |conn| {
                let id = BreachId::new();
                if let Some(recipient) = body.recipient_id {
                    crate::recipients::model::find(conn, recipient).map_err(|_| {
                        ApiError::invalid_field("recipient_id", "names no recipient")
                    })?;
                }
                let row = BreachRow {
                    id,
                    version: 1,
                    status: "open".to_owned(),
                    aware_at,
                    nature: body.nature.iter().map(|n| n.as_str().to_owned()).collect(),
                    description_enc: model::seal(conn, id, body.description.trim())?,
                    window_from: body.window.from.trunc_subsecs(6),
                    window_to: body.window.to.trunc_subsecs(6),
                    recipient_id: body.recipient_id,
                    actor: body.actor.map(|a| a.trim().to_owned()),
                    data_categories: body
                        .data_categories
                        .iter()
                        .map(|c| c.as_str().to_owned())
                        .collect(),
                    notify_authority_by: aware_at + Duration::hours(NOTIFY_WITHIN_HOURS),
                    risk: None,
                    risk_reasoning: None,
                    assessed_at: None,
                    authority_notified_at: None,
                    authority_reference: None,
                    delay_reasons: None,
                    communicated_at: None,
                    communication_method: None,
                    communication_exemption: None,
                    affected_count: None,
                    scope_computed_at: None,
                    scope_sources: None,
                    created_by: actor,
                    created_at: now,
                    updated_at: now,
                    closed_at: None,
                };
                diesel::insert_into(crate::db::schema::breaches::table)
                    .values(&row)
                    .execute(conn)?;
                access_log::record(conn, &[logged])?;
                let breach = model::breach(conn, row)?;
                Ok(Answer::json(StatusCode::CREATED, &breach)?
                    .location(format!("/v1/breaches/{}", breach.id))
                    .etag(precondition::etag(breach.version)))
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Reads one breach. Logged as `breach.read` (no subject).
#[utoipa::path(get, path = paths::BREACH, tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The breach's id")),
    responses(
        (status = 200, description = "The breach", body = Breach, headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "No such breach", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesRead>, BadId, LogUnavailable,
    ))]
pub async fn get_breach(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<BreachId>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::BreachesRead, Action::BreachRead, None)
        .await?;
    let id = id.into_inner();
    let breach = state
        .db
        .run(move |conn| {
            let row = model::find(conn, id, false)?;
            model::breach(conn, row)
        })
        .await?;
    state
        .log_reads(vec![caller.entry(
            Action::BreachRead,
            None,
            Outcome::Allowed,
        )])
        .await?;
    Ok(respond(StatusCode::OK, &breach))
}

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

/// Computes a breach's affected persons, replacing the last computation.
///
/// From `disclosures` (default with `access_log`): persons with a disclosure (staff record or
/// partner read) to the breach's `recipient_id` in its window covering any of its
/// `data_categories`; from `access_log`: persons of `allowed` entries by its `actor` in its
/// window. Neither given: 422 `scope-undefined`. Logged as `breach.scope` with the count.
#[utoipa::path(post, path = paths::BREACH_SCOPE, tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The breach's id")),
    request_body = ScopeRequest,
    responses(
        (status = 200, description = "Scoped", body = Scoped),
        (status = 404, description = "No such breach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`scope-undefined`: the breach names neither a recipient nor an actor", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesWrite>, BadId, JsonBody, Unavailable,
    ))]
pub async fn scope_breach(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<BreachId>,
    body: BodyAfterAuth<ScopeRequest>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::BreachesWrite, Action::BreachScope, None)
        .await?;
    let body = body.read().await?;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    // A replay repeats the first answer with an entry like the first's (its count unknown then).
    let keyed = caller.entry(Action::BreachScope, None, Outcome::Allowed);
    let sources = body
        .sources
        .unwrap_or_else(|| vec![ScopeSource::Disclosures, ScopeSource::AccessLog]);
    let id = id.into_inner();
    let caller = caller.clone();
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&keyed), |conn| {
                let mut row = model::find(conn, id, true)?;
                if row.recipient_id.is_none() && row.actor.is_none() {
                    return Err(ApiError::client(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "scope-undefined",
                        "the breach names neither a recipient_id nor an actor to scope by",
                    ));
                }
                let count = model::scope(
                    conn,
                    &row,
                    sources.contains(&ScopeSource::Disclosures),
                    sources.contains(&ScopeSource::AccessLog),
                )?;
                let now = Utc::now().trunc_subsecs(6);
                row.affected_count = Some(i32::try_from(count).unwrap_or(i32::MAX));
                row.scope_computed_at = Some(now);
                row.scope_sources = Some(sources.iter().map(|s| s.as_str().to_owned()).collect());
                diesel::update(crate::db::schema::breaches::table.find(row.id))
                    .set(&row)
                    .execute(conn)?;
                let entry = caller
                    .entry(Action::BreachScope, None, Outcome::Allowed)
                    .with_count(usize::try_from(count).unwrap_or(usize::MAX));
                access_log::record(conn, &[entry])?;
                Answer::json(
                    StatusCode::OK,
                    &Scoped {
                        affected_count: row.affected_count.unwrap_or(0),
                        computed_at: now,
                        sources,
                    },
                )
            })
        })
        .await?;
    Ok(answer.respond())
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

/// What every change of a breach does around its own rule: the scope check, the body,
/// `If-Match` (when asked), one transaction that locks the breach, applies the change, stores it
/// with a new version and its `breach.update` entry.
async fn change<B: DeserializeOwned + utoipa::ToSchema + Validate + Send + 'static>(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    id: BreachId,
    body: BodyAfterAuth<B>,
    if_match: bool,
    apply: fn(&mut PgConnection, &mut BreachRow, B) -> ApiResult<()>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(caller, Scope::BreachesWrite, Action::BreachUpdate, None)
        .await?;
    let body = body.read().await?;
    let key = idempotency::Key::of(req, &caller.actor)?;
    // Judged after the 404, inside the transaction.
    let if_match = if_match.then(|| precondition::IfMatch::of(req.headers(), "breach"));
    let entry = caller.entry(Action::BreachUpdate, None, Outcome::Allowed);
    let keyed = entry.clone();
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&keyed), |conn| {
                let mut row = model::find(conn, id, true)?;
                if let Some(if_match) = if_match {
                    if_match?.check(row.version)?;
                }
                apply(conn, &mut row, body)?;
                row.version += 1;
                row.updated_at = Utc::now().trunc_subsecs(6);
                diesel::update(crate::db::schema::breaches::table.find(row.id))
                    .set(&row)
                    .execute(conn)?;
                access_log::record(conn, &[entry])?;
                let breach = model::breach(conn, row)?;
                Ok(Answer::json(StatusCode::OK, &breach)?.etag(precondition::etag(breach.version)))
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Records the risk assessment (`If-Match` required). Logged as `breach.update`.
#[utoipa::path(put, path = paths::BREACH_ASSESSMENT, tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The breach's id"), ("If-Match" = String, Header, description = "The `ETag` last read")),
    request_body = Assessment,
    responses(
        (status = 200, description = "Assessed", body = Breach),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such breach", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesWrite>, JsonBody, Precondition, Unavailable,
    ))]
pub async fn assess_breach(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<BreachId>,
    body: BodyAfterAuth<Assessment>,
) -> actix_web::Result<HttpResponse> {
    change(
        &state,
        &caller,
        &req,
        id.into_inner(),
        body,
        true,
        |_, row, a| {
            row.risk = Some(a.risk.as_str().to_owned());
            row.risk_reasoning = Some(a.reasoning.trim().to_owned());
            row.assessed_at = Some(Utc::now().trunc_subsecs(6));
            Ok(())
        },
    )
    .await
}

/// Records the notification of the supervisory authority (Art. 33).
///
/// `notified_at` may be neither in the future nor before `aware_at`; after
/// `notify_authority_by` it needs `delay_reasons` (400). Once only (409 `already-notified`).
/// Logged as `breach.update`.
#[utoipa::path(post, path = paths::BREACH_AUTHORITY_NOTIFICATION, tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The breach's id")),
    request_body = AuthorityNotification,
    responses(
        (status = 200, description = "Recorded", body = Breach),
        (status = 400, description = "Invalid fields (before awareness, late without reasons), each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such breach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already-notified`", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesWrite>, JsonBody, Unavailable,
    ))]
pub async fn notify_authority(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<BreachId>,
    body: BodyAfterAuth<AuthorityNotification>,
) -> actix_web::Result<HttpResponse> {
    change(
        &state,
        &caller,
        &req,
        id.into_inner(),
        body,
        false,
        |_, row, n| {
            if n.notified_at < row.aware_at {
                return Err(ApiError::invalid_field(
                    "notified_at",
                    "must not be before `aware_at`",
                ));
            }
            let reasons = n
                .delay_reasons
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty());
            if n.notified_at > row.notify_authority_by && reasons.is_none() {
                return Err(ApiError::invalid_field(
                    "delay_reasons",
                    "is required when notified after `notify_authority_by` (Art. 33(1))",
                ));
            }
            if row.authority_notified_at.is_some() {
                return Err(conflict(
                    "already-notified",
                    "the authority was already notified",
                ));
            }
            row.authority_notified_at = Some(n.notified_at.trunc_subsecs(6));
            row.authority_reference = Some(n.reference.trim().to_owned());
            row.delay_reasons = reasons;
            Ok(())
        },
    )
    .await
}

/// Records the communication to the persons affected, or the exemption from it (Art. 34).
/// Logged as `breach.update`.
#[utoipa::path(post, path = paths::BREACH_SUBJECT_COMMUNICATION, tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The breach's id")),
    request_body = SubjectCommunication,
    responses(
        (status = 200, description = "Recorded", body = Breach),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such breach", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesWrite>, JsonBody, Unavailable,
    ))]
pub async fn communicate(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<BreachId>,
    body: BodyAfterAuth<SubjectCommunication>,
) -> actix_web::Result<HttpResponse> {
    change(
        &state,
        &caller,
        &req,
        id.into_inner(),
        body,
        false,
        |_, row, c| {
            row.communicated_at = Some(c.communicated_at.trunc_subsecs(6));
            row.communication_method = Some(c.method.trim().to_owned());
            row.communication_exemption = c.exemption.map(|e| e.as_str().to_owned());
            Ok(())
        },
    )
    .await
}

/// Changes a breach's description, window or categories, or closes it (`If-Match` required).
///
/// An unassessed breach cannot be closed (409 `assessment-missing`). Logged as `breach.update`.
#[utoipa::path(patch, path = paths::BREACH, tag = "breaches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The breach's id"), ("If-Match" = String, Header, description = "The `ETag` last read")),
    request_body = BreachPatch,
    responses(
        (status = 200, description = "Changed", body = Breach),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such breach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`assessment-missing`", body = Problem, content_type = "application/problem+json"),
        Auth<BreachesWrite>, JsonBody, Precondition, Unavailable,
    ))]
pub async fn change_breach(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<BreachId>,
    body: BodyAfterAuth<BreachPatch>,
) -> actix_web::Result<HttpResponse> {
    change(
        &state,
        &caller,
        &req,
        id.into_inner(),
        body,
        true,
        |conn, row, p| {
            if let Some(d) = p.description {
                row.description_enc = model::seal(conn, row.id, d.trim())?;
            }
            if let Some(w) = p.window {
                row.window_from = w.from.trunc_subsecs(6);
                row.window_to = w.to.trunc_subsecs(6);
            }
            if let Some(c) = p.data_categories {
                row.data_categories = c.iter().map(|c| c.as_str().to_owned()).collect();
            }
            if p.status.is_some() {
                if row.risk.is_none() {
                    return Err(conflict(
                        "assessment-missing",
                        "assess the breach's risk before closing it",
                    ));
                }
                row.status = "closed".to_owned();
                row.closed_at = Some(Utc::now().trunc_subsecs(6));
            }
            Ok(())
        },
    )
    .await
}
