//! Handlers of the breach register: recording a breach, reading one and computing its affected
//! persons (the register's reads are in `reads.rs`, its later steps in `steps.rs`). Every entry is
//! about no subject (`subject_id` null); changes write theirs in their transaction; no notices are
//! sent.

use super::api::{Breach, NewBreach, ScopeRequest, Scoped, Source};
use super::model::{self, BreachRow};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::BreachId;
use crate::error::{ApiError, ApiResult, Problem};
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, BadId, BreachesRead, BreachesWrite, JsonBody, LogUnavailable, Unavailable,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{Duration, SubsecRound, Utc};
use diesel::prelude::*;

/// Hours to notify the authority (Art. 33(1)): clock hours, so a DST change does not move it.
pub const NOTIFY_WITHIN_HOURS: i64 = 72;

pub(super) fn respond(status: StatusCode, breach: &Breach) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("ETag", precondition::etag(breach.version)))
        .json(breach)
}

pub(super) fn conflict(code: &'static str, detail: &str) -> ApiError {
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
    body: BodyAfterAuth<NewBreach>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::BreachesWrite, Action::BreachCreate, None)
        .await?;
    let body = body.read().await?;
    let now = Utc::now().trunc_subsecs(6);
    let aware_at = body.aware_at.trunc_subsecs(6);
    let logged = caller.entry(Action::BreachCreate, None, Outcome::Allowed);
    let actor = caller.actor.sub.clone();
    let breach = state
        .db
        .transaction(move |conn| {
            let id = BreachId::new();
            if let Some(recipient) = body.recipient_id {
                crate::recipients::model::find(conn, recipient)
                    .map_err(|_| ApiError::invalid_field("recipient_id", "names no recipient"))?;
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
            model::breach(conn, row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/breaches/{}", breach.id)))
        .insert_header(("ETag", precondition::etag(breach.version)))
        .json(breach))
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
    id: web::Path<BreachId>,
    body: BodyAfterAuth<ScopeRequest>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::BreachesWrite, Action::BreachScope, None)
        .await?;
    let body = body.read().await?;
    let sources = body
        .sources
        .unwrap_or_else(|| vec![Source::Disclosures, Source::AccessLog]);
    let id = id.into_inner();
    let caller = caller.clone();
    let scoped = state
        .db
        .transaction(move |conn| {
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
                sources.contains(&Source::Disclosures),
                sources.contains(&Source::AccessLog),
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
            Ok(Scoped {
                affected_count: row.affected_count.unwrap_or(0),
                computed_at: now,
                sources,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(scoped))
}
