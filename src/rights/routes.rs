//! Handlers of the rights: the export (the right of access), erasure (Art. 17) and restriction
//! (Art. 18) with its lifting.

use super::api::{ErasureRequest, Restriction, RestrictionLift, RestrictionRequest};
use super::erasure::{erase, EraseCommand, Erased};
use super::export::{self, SubjectExport};
use super::restriction;
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::error::{ApiResult, Problem};
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::responses::{
    Auth, BadId, JsonBody, LogUnavailable, NoSubject, SubjectsErase, SubjectsRead, SubjectsWrite,
    Unavailable,
};
use crate::state::AppState;
use crate::subjects::path::SubjectPath;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// Erases a subject (the right to erasure, Art. 17).
///
/// In one transaction: every consent and opt-out flag becomes `withdrawn` (each with a consent
/// event by the caller, method `api`), every disclosure authorization is revoked, the
/// subject's personal values are destroyed (the personal code may then be registered again),
/// the erasure is recorded with its reason and a `subject.erase` entry is written. Afterwards
/// every endpoint under the subject's path answers 410 `subject-erased`, except its access-log
/// entries and its holds; the id stays in the access log and the history tables, which keep
/// their rows. `privacy_request_id`, when given, must name an open erasure request about this
/// subject (400 naming the field when it names none, another kind or another subject; 409
/// `request-closed` when closed). 409 `subject-on-hold` (with `hold_id`) while an active hold
/// covers the subject; 410 when it is already erased.
#[utoipa::path(post, path = paths::SUBJECT_ERASURE, tag = "subjects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = ErasureRequest,
    responses(
        (status = 200, description = "Erased", body = Erased),
        (status = 400, description = "Invalid fields (`reason`, `privacy_request_id`), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`subject-on-hold` (naming the hold in `hold_id`), or `request-closed`", body = Problem, content_type = "application/problem+json"),
        Auth<SubjectsErase>, NoSubject, JsonBody, Unavailable,
    ))]
pub async fn erase_subject(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<ErasureRequest>,
) -> actix_web::Result<HttpResponse> {
    let (id, body, key) = path
        .authorized_write(
            &state,
            &caller,
            &req,
            (Scope::SubjectsErase, Action::SubjectErase),
            body,
        )
        .await?;
    let entry = caller.entry(Action::SubjectErase, Some(id), Outcome::Allowed);
    let command = EraseCommand {
        subject_id: id,
        reason: body.reason,
        privacy_request_id: body.privacy_request_id,
        require_verified: state.require_verified_requests,
        entry: entry.clone(),
    };
    Ok(
        idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            Answer::json(StatusCode::OK, &erase(conn, &command)?)
        })
        .await?,
    )
}

/// Restricts the processing of a subject's data (Art. 18).
///
/// While restricted, the subject record shows `restriction`; eligibility lists the subject
/// under `not_eligible` for every purpose; partner reads answer 403 as without authorization
/// and the id leaves the partner's list; a staff disclosure record is 403
/// `subject-restricted`. Reads, rectification and consent changes still work. 409
/// `already-restricted` when a restriction is in force. Logged as `subject.restrict`.
#[utoipa::path(post, path = paths::SUBJECT_RESTRICTION, tag = "subjects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = RestrictionRequest,
    responses(
        (status = 200, description = "Restricted", body = Restriction),
        (status = 400, description = "Invalid fields (an unknown ground, a blank reason, a `privacy_request_id` naming no open restriction request of this subject), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already restricted (`already-restricted`), or the cited request is closed (`request-closed`) or unverified (`request-unverified`)", body = Problem, content_type = "application/problem+json"),
        Auth<SubjectsWrite>, NoSubject, JsonBody, Unavailable,
    ))]
pub async fn restrict_subject(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<RestrictionRequest>,
) -> actix_web::Result<HttpResponse> {
    let require_verified = state.require_verified_requests;
    let step = (Scope::SubjectsWrite, Action::SubjectRestrict);
    path.write_step(
        &state,
        &caller,
        &req,
        step,
        body,
        move |conn, id, body: RestrictionRequest, entry| {
            let answering = restriction::Answering {
                privacy_request_id: body.privacy_request_id,
                require_verified,
            };
            let row =
                restriction::restrict(conn, id, body.ground, body.reason.trim(), entry, answering)?;
            Answer::json(StatusCode::OK, &Restriction::try_from(row)?)
        },
    )
    .await
}

/// Lifts the restriction of a subject's processing.
///
/// Answers the restriction as lifted. 409 `not-restricted` when none is in force. Logged as
/// `subject.restriction_lift`.
#[utoipa::path(post, path = paths::SUBJECT_RESTRICTION_LIFT, tag = "subjects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = RestrictionLift,
    responses(
        (status = 200, description = "Lifted", body = Restriction),
        (status = 400, description = "Invalid body (a blank reason), or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not restricted (`not-restricted`)", body = Problem, content_type = "application/problem+json"),
        Auth<SubjectsWrite>, NoSubject, JsonBody, Unavailable,
    ))]
pub async fn lift_restriction(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<RestrictionLift>,
) -> actix_web::Result<HttpResponse> {
    let step = (Scope::SubjectsWrite, Action::SubjectRestrictionLift);
    path.write_step(
        &state,
        &caller,
        &req,
        step,
        body,
        |conn, id, body: RestrictionLift, entry| {
            let row = restriction::lift(conn, id, body.reason.trim(), entry)?;
            Answer::json(StatusCode::OK, &Restriction::try_from(row)?)
        },
    )
    .await
}

/// Exports everything held about a subject: the right of access.
///
/// One document with the record and its source, consents and their history, disclosure
/// authorizations and disclosures, every rectification, the access-log entries about the
/// person, the purposes of processing and the recipient categories. Writes a `subject.export`
/// access-log entry before answering.
#[utoipa::path(get, path = paths::SUBJECT_EXPORT, tag = "subjects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "Everything held about the subject", body = SubjectExport),
        BadId, Auth<SubjectsRead>, NoSubject, LogUnavailable,
    ))]
pub async fn export_subject(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
) -> ApiResult<HttpResponse> {
    let id = path.id();
    state
        .authorize(
            &caller,
            Scope::SubjectsRead,
            Action::SubjectExport,
            Some(id),
        )
        .await?;
    let document = state.db.run(move |conn| export::gather(conn, id)).await?;
    // Committed before the answer: only then may the data go out.
    state
        .log_reads(vec![caller.entry(
            Action::SubjectExport,
            Some(id),
            Outcome::Allowed,
        )])
        .await?;
    Ok(HttpResponse::Ok().json(document))
}
