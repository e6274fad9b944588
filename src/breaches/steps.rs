//! The later steps of a breach (Art. 33-34), each an `If-Match` change or a once-only record
//! around the one shape `change`: the assessment, the authority's notification, the
//! communication to the persons, and changes of the description, window, categories or status.

use super::api::{Assessment, AuthorityNotification, Breach, BreachPatch, SubjectCommunication};
use super::model::{self, BreachRow};
use super::routes::{conflict, respond};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::BreachId;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Validate;
use crate::paths;
use crate::precondition;
use crate::responses::{Auth, BreachesWrite, JsonBody, Precondition, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{SubsecRound, Utc};
use diesel::prelude::*;
use serde::de::DeserializeOwned;

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
    // Judged after the 404, inside the transaction.
    let if_match = if_match.then(|| precondition::IfMatch::of(req.headers(), "breach"));
    let entry = caller.entry(Action::BreachUpdate, None, Outcome::Allowed);
    let breach = state
        .db
        .transaction(move |conn| {
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
            model::breach(conn, row)
        })
        .await?;
    Ok(respond(StatusCode::OK, &breach))
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
