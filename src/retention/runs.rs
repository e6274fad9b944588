//! Handlers of retention runs: start one (or learn the one under way) and follow it. The run
//! itself is carried out by the retention thread ([`super::worker`]), never on a request's
//! worker.

use super::api::{Run, RunStarted};
use super::model;
use super::run;
use crate::access_log::{self, Action};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::ids::RetentionRunId;
use crate::domain::retention::RunStatus;
use crate::error::{ApiError, Problem};
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::responses::{Auth, BadId, LogUnavailable, RetentionRead, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// Starts a retention run, or answers the one under way.
///
/// Needs both `retention:write` and `subjects:erase`. The run erases every subject due today
/// (Europe/Tallinn), each as the erasure endpoint would, as actor `system:retention`, and counts
/// those an active hold covers. While a run is under way (started here, by another instance or
/// by the daily schedule) the answer names that run. Logged as `retention.run`, with no
/// subject; each erasure writes its own `subject.erase` entry.
#[utoipa::path(post, path = paths::RETENTION_RUNS, tag = "retention", security(("bearer" = [])),
    responses(
        (status = 202, description = "The run under way", body = RunStarted, headers(
            ("Location" = String, description = "The run's path"),
        )),
        (status = 403, description = "The token lacks `retention:write` or `subjects:erase`", body = Problem, content_type = "application/problem+json"),
        crate::responses::Bearer, Unavailable,
    ))]
pub async fn start_run(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> actix_web::Result<HttpResponse> {
    for scope in [Scope::RetentionWrite, Scope::SubjectsErase] {
        state
            .authorize(&caller, scope, Action::RetentionRun, None)
            .await?;
    }
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let entry = caller.entry(Action::RetentionRun, None, access_log::Outcome::Allowed);
    let started_by = caller.actor.sub.clone();
    let answer = state
        .db
        .transaction(move |conn| {
            // A retried start with its key answers the run it started, not a new one.
            idempotency::run(conn, key.as_ref(), Some(&entry.clone()), |conn| {
                let (row, _) = run::start(conn, &started_by)?;
                access_log::record(conn, &[entry])?;
                let started = RunStarted {
                    id: row.id,
                    status: RunStatus::Running,
                };
                Ok(Answer::json(StatusCode::ACCEPTED, &started)?
                    .location(format!("/v1/retention/runs/{}", row.id)))
            })
        })
        .await?;
    state.background.activate(super::worker::NAME);
    Ok(answer.respond())
}

/// Reads a retention run: its status and counts so far.
///
/// `erased` and `skipped_on_hold` grow while it is `running`; `skipped_on_hold` counts the
/// subjects past their keep date that an active hold covers. Logged as `retention.read`, with
/// no subject.
#[utoipa::path(get, path = paths::RETENTION_RUN, tag = "retention", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run", body = Run),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        Auth<RetentionRead>, BadId, LogUnavailable,
    ))]
pub async fn get_run(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<RetentionRunId>,
) -> Result<HttpResponse, ApiError> {
    state
        .authorize(&caller, Scope::RetentionRead, Action::RetentionRead, None)
        .await?;
    let id = id.into_inner();
    let row = state.db.run(move |conn| model::find_run(conn, id)).await?;
    state
        .log_reads(vec![caller.entry(
            Action::RetentionRead,
            None,
            access_log::Outcome::Allowed,
        )])
        .await?;
    Ok(HttpResponse::Ok().json(Run::from_row(row)?))
}
