//! Handlers of holds: place one on a subject, list them, release one.

use super::api::{holds_of, Hold, HoldList, HoldRelease, NewHold};
use super::model::{self, HoldRow};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::{HoldId, SubjectId};
use crate::error::{ApiResult, Problem};
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::responses::{
    Auth, BadId, JsonBody, LogUnavailable, NoSubject, RetentionRead, RetentionWrite, Unavailable,
};
use crate::state::AppState;
use crate::subjects::model::Lock;
use crate::subjects::path::SubjectPath;
use crate::subjects::standing::Standing;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{SubsecRound, Utc};

/// Places a hold on a subject's data (Art. 17(3)).
///
/// While the hold is active (until released) the subject cannot be erased: the erasure
/// endpoint answers 409 `subject-on-hold` naming it, and retention runs skip the subject.
/// `review_on` must be today or later (Europe/Tallinn). Logged as `hold.create`.
#[utoipa::path(post, path = paths::SUBJECT_HOLDS, tag = "retention", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = NewHold,
    responses(
        (status = 201, description = "Placed", body = Hold),
        (status = 400, description = "Invalid fields (an unknown ground, a `review_on` in the past), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        Auth<RetentionWrite>, NoSubject, JsonBody, Unavailable,
    ))]
pub async fn create_hold(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<NewHold>,
) -> actix_web::Result<HttpResponse> {
    let (subject, body, key) = path
        .authorized_write(
            &state,
            &caller,
            &req,
            (Scope::RetentionWrite, Action::HoldCreate),
            body,
        )
        .await?;
    let row = HoldRow {
        id: HoldId::new(),
        subject_id: subject,
        ground: body.ground.as_str().to_owned(),
        legal_reference: body.legal_reference.trim().to_owned(),
        review_on: body.review_on,
        created_by: caller.actor.sub.clone(),
        created_at: Utc::now().trunc_subsecs(6),
        released_at: None,
        release_reason: None,
        released_by: None,
    };
    let entry = caller.entry(Action::HoldCreate, Some(subject), Outcome::Allowed);
    Ok(
        idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            path.lock(conn)?;
            model::insert(conn, &row)?;
            access_log::record(conn, &[entry])?;
            Answer::json(StatusCode::CREATED, &Hold::try_from(row)?)
        })
        .await?,
    )
}

/// Lists a subject's holds, released ones included, oldest first.
///
/// Keeps working after the subject's erasure (a hold holds no personal values). Logged as
/// `hold.read`.
#[utoipa::path(get, path = paths::SUBJECT_HOLDS, tag = "retention", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "The subject's holds", body = HoldList),
        (status = 404, description = "No such subject", body = Problem, content_type = "application/problem+json"),
        BadId, Auth<RetentionRead>, LogUnavailable,
    ))]
pub async fn list_holds(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
) -> ApiResult<HttpResponse> {
    let subject = path.id();
    state
        .authorize(
            &caller,
            Scope::RetentionRead,
            Action::HoldRead,
            Some(subject),
        )
        .await?;
    let items = state
        .db
        .run(move |conn| {
            // Not `path.check`: an erased subject's holds stay readable.
            Standing::read(conn, subject, Lock::None)?.known()?;
            holds_of(conn, subject)
        })
        .await?;
    state
        .log_reads(vec![caller.entry(
            Action::HoldRead,
            Some(subject),
            Outcome::Allowed,
        )])
        .await?;
    Ok(HttpResponse::Ok().json(HoldList { items }))
}

/// Releases a hold: from then on it no longer blocks the subject's erasure.
///
/// Releasing a released hold is 409 `hold-released`. Logged as `hold.release`.
#[utoipa::path(post, path = paths::SUBJECT_HOLD_RELEASE, tag = "retention", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("hid" = Uuid, Path, description = "The hold's id"),
    ),
    request_body = HoldRelease,
    responses(
        (status = 200, description = "Released", body = Hold),
        (status = 400, description = "Invalid body (every bad field named), or an id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject, or no such hold of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already released (`hold-released`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The subject was erased (`subject-erased`)", body = Problem, content_type = "application/problem+json"),
        Auth<RetentionWrite>, JsonBody, Unavailable,
    ))]
pub async fn release_hold(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(SubjectId, HoldId)>,
    body: BodyAfterAuth<HoldRelease>,
) -> actix_web::Result<HttpResponse> {
    let (subject, id) = path.into_inner();
    state
        .authorize(
            &caller,
            Scope::RetentionWrite,
            Action::HoldRelease,
            Some(subject),
        )
        .await?;
    let reason = body.read().await?.reason.trim().to_owned();
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let actor = caller.actor.sub.clone();
    let entry = caller.entry(Action::HoldRelease, Some(subject), Outcome::Allowed);
    Ok(
        idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            crate::subjects::path::lock(conn, subject, Lock::KeyShare)?;
            let row = model::release(conn, subject, id, &reason, &actor)?;
            access_log::record(conn, &[entry])?;
            Answer::json(StatusCode::OK, &Hold::try_from(row)?)
        })
        .await?,
    )
}
