//! Handlers that end or limit the processing of a subject's data: erasure (Art. 17) and
//! restriction (Art. 18) with its lifting.

use super::erasure::{erase, EraseCommand, Erased};
use super::path::SubjectPath;
use super::restriction::{self, RestrictionRow};
use crate::access_log::{Action, NewEntry, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::domain::restriction::RestrictionGround;
use crate::domain::text::LongText;
use crate::error::{ApiResult, FieldError, Problem};
use crate::extract::Validate;
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::responses::{Auth, JsonBody, NoSubject, SubjectsErase, SubjectsWrite, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An erasure asked for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ErasureRequest {
    /// Why the subject is erased. It is kept after the erasure as its record, so it must name
    /// no personal value (write "privacy request PR-2026-17", not the person's name).
    #[schema(
        example = "erasure asked for by the person (privacy request PR-2026-17)",
        min_length = 1,
        max_length = 500
    )]
    pub reason: String,
    /// The privacy request this answers: an open erasure request about this subject. Once the
    /// erasure is done the request can be closed as `fulfilled`.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub privacy_request_id: Option<PrivacyRequestId>,
}

// `reason` is checked by the erasure itself, together with `privacy_request_id`, so that one
// 400 names both.
impl Validate for ErasureRequest {}

/// A restriction asked for.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RestrictionRequest {
    /// The Art. 18(1) ground.
    pub ground: RestrictionGround,
    /// Why, such as the person's message contesting the data.
    #[schema(
        example = "the person contests the address (letter of 2026-11-20)",
        min_length = 1,
        max_length = 500
    )]
    pub reason: String,
    /// The privacy request this answers: an open restriction request about this subject (400
    /// naming the field otherwise; 409 `request-closed`; 409 `request-unverified` when it is not
    /// verified and `REQUIRE_VERIFIED_REQUESTS` is set). The notices it causes carry it.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub privacy_request_id: Option<PrivacyRequestId>,
}

impl Validate for RestrictionRequest {
    fn validate(&self) -> Vec<FieldError> {
        LongText::field_errors("reason", &self.reason)
    }
}

/// A restriction lifted.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RestrictionLift {
    /// Why, such as the outcome of the verification.
    #[schema(
        example = "the address was verified and corrected",
        min_length = 1,
        max_length = 500
    )]
    pub reason: String,
}

impl Validate for RestrictionLift {
    fn validate(&self) -> Vec<FieldError> {
        LongText::field_errors("reason", &self.reason)
    }
}

/// A restriction of processing, in force or lifted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Restriction {
    /// The Art. 18(1) ground.
    pub ground: RestrictionGround,
    /// Why it was restricted.
    pub reason: String,
    /// Since when.
    pub since: DateTime<Utc>,
    /// When it was lifted; `null` while in force.
    pub lifted_at: Option<DateTime<Utc>>,
    /// Why it was lifted.
    pub lift_reason: Option<String>,
}

impl TryFrom<RestrictionRow> for Restriction {
    type Error = crate::error::ApiError;

    fn try_from(row: RestrictionRow) -> ApiResult<Self> {
        Ok(Self {
            ground: RestrictionGround::from_db(&row.ground)?,
            reason: row.reason,
            since: row.since,
            lifted_at: row.lifted_at,
            lift_reason: row.lift_reason,
        })
    }
}

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
    let action = Action::SubjectRestrict;
    let require_verified = state.require_verified_requests;
    change_restriction(
        &state,
        &caller,
        &req,
        path,
        body,
        action,
        move |conn, id, body, entry| {
            let answering = restriction::Answering {
                privacy_request_id: body.privacy_request_id,
                require_verified,
            };
            restriction::restrict(conn, id, body.ground, body.reason.trim(), entry, answering)
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
    let action = Action::SubjectRestrictionLift;
    change_restriction(
        &state,
        &caller,
        &req,
        path,
        body,
        action,
        |conn, id, body, entry| restriction::lift(conn, id, body.reason.trim(), entry),
    )
    .await
}

/// Restricting and lifting differ only in the change they make: both need `subjects:write`,
/// read the body only once authorized, replay under an idempotency key and answer the
/// restriction as it then stands.
async fn change_restriction<B>(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<B>,
    action: Action,
    change: impl FnOnce(&mut PgConnection, SubjectId, B, NewEntry) -> ApiResult<RestrictionRow>
        + Send
        + 'static,
) -> actix_web::Result<HttpResponse>
where
    B: DeserializeOwned + ToSchema + Validate + Send + 'static,
{
    let (id, body, key) = path
        .authorized_write(state, caller, req, (Scope::SubjectsWrite, action), body)
        .await?;
    let entry = caller.entry(action, Some(id), Outcome::Allowed);
    Ok(
        idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            let row = change(conn, id, body, entry)?;
            Answer::json(StatusCode::OK, &Restriction::try_from(row)?)
        })
        .await?,
    )
}
