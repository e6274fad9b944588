//! Staff handlers of disclosure authorizations: grant, list, read, revoke.

use super::api::{Authorization, AuthorizationList, NewAuthorization, Revocation};
use super::etag_of;
use super::model::{self, NewAuthorizationRow};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::disclosure::DataCategory;
use crate::domain::ids::{AuthorizationId, SubjectId};
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::responses::{
    Auth, BadId, DisclosuresRead, DisclosuresWrite, JsonBody, LogUnavailable, NoSubject,
    Unavailable,
};
use crate::state::AppState;
use crate::subjects::model::Lock;
use crate::subjects::path::SubjectPath;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use std::collections::BTreeSet;

/// One authorization, with its `ETag` (and `Location` when just created).
fn single(status: StatusCode, body: &Authorization) -> ApiResult<Answer> {
    let answer = Answer::json(status, body)?.etag(etag_of(body));
    if status != StatusCode::CREATED {
        return Ok(answer);
    }
    Ok(answer.location(format!(
        "/v1/subjects/{}/disclosure-authorizations/{}",
        body.subject_id, body.id
    )))
}

/// Authorizes disclosing a subject's data to a recipient.
///
/// The legal basis is the subject's consent (with `consent_evidence`) or a legal obligation
/// (with `legal_reference`). The authorization covers the listed data categories for its
/// validity period, until revoked, and only while the recipient is active.
#[utoipa::path(
    post, path = paths::AUTHORIZATIONS, tag = "disclosures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = NewAuthorization,
    responses(
        (status = 201, description = "Authorized", body = Authorization,
         headers(("Location" = String, description = "The new authorization"), ("ETag" = String, description = "Its version"))),
        (status = 400, description = "Invalid body (every bad field is named), or no such recipient", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<DisclosuresWrite>, NoSubject, JsonBody, Unavailable,
    )
)]
pub async fn create_authorization(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<NewAuthorization>,
) -> actix_web::Result<HttpResponse> {
    let (subject, body, key) = path
        .authorized_write(
            &state,
            &caller,
            &req,
            (Scope::DisclosuresWrite, Action::DisclosureAuthorize),
            body,
        )
        .await?;
    let now = Utc::now();
    let valid_from = body.valid_from.unwrap_or(now);
    if body.valid_until.is_some_and(|until| until <= valid_from) {
        return Err(ApiError::invalid_field("valid_until", "must be after valid_from").into());
    }
    let categories: BTreeSet<DataCategory> = body.data_categories.iter().copied().collect();
    let evidence = body.consent_evidence;
    let entry = caller.entry(Action::DisclosureAuthorize, Some(subject), Outcome::Allowed);
    let row = NewAuthorizationRow {
        id: AuthorizationId::new(),
        subject_id: subject,
        recipient_id: body.recipient_id,
        legal_basis: body.legal_basis.as_str().to_owned(),
        legal_reference: body.legal_reference,
        data_categories: DataCategory::names(&categories),
        purpose: body.purpose,
        consent_purpose: body.consent_purpose,
        valid_from,
        valid_until: body.valid_until,
        created_by: caller.actor.sub.clone(),
        created_at: now,
        // Its entry is found by this request id, to be withheld with a disclosure it covers.
        request_id: Some(entry.request_id.clone()),
    };
    Ok(
        idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            path.lock(conn)?;
            model::require_recipient(conn, row.recipient_id)?;
            if let Some(purpose) = &row.consent_purpose {
                model::require_opt_in_purpose(conn, purpose)?;
            }
            model::insert_authorization(conn, &row, evidence.as_deref())?;
            access_log::record(conn, &[entry])?;
            // Read back with the recipient's status, which `active` depends on.
            let stored = model::authorization(conn, subject, row.id)?;
            let body = Authorization::from_row(stored, Utc::now())?;
            single(StatusCode::CREATED, &body)
        })
        .await?,
    )
}

/// Lists a subject's disclosure authorizations.
///
/// All of them, revoked and expired ones included, oldest first, each with whether it is
/// `active` now.
#[utoipa::path(
    get, path = paths::AUTHORIZATIONS, tag = "disclosures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "The subject's authorizations", body = AuthorizationList),
        BadId, Auth<DisclosuresRead>, NoSubject, LogUnavailable,
    )
)]
pub async fn list_authorizations(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
) -> ApiResult<HttpResponse> {
    let subject = path.id();
    state
        .authorize(
            &caller,
            Scope::DisclosuresRead,
            Action::DisclosureRead,
            Some(subject),
        )
        .await?;
    let rows = state
        .db
        .run(move |conn| {
            path.check(conn)?;
            model::authorizations_of(conn, subject)
        })
        .await?;
    state
        .log_reads(vec![caller.entry(
            Action::DisclosureRead,
            Some(subject),
            Outcome::Allowed,
        )])
        .await?;
    let now = Utc::now();
    let items = rows
        .into_iter()
        .map(|opened| Authorization::from_row(opened, now))
        .collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(AuthorizationList { items }))
}

/// Reads one disclosure authorization.
#[utoipa::path(
    get, path = paths::AUTHORIZATION, tag = "disclosures",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("aid" = Uuid, Path, description = "The authorization's id"),
    ),
    responses(
        (status = 200, description = "The authorization", body = Authorization,
         headers(("ETag" = String, description = "Its version"))),
        (status = 400, description = "An id is not a UUID", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject, or no such authorization of it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The subject was erased (`subject-erased`)", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<DisclosuresRead>, LogUnavailable,
    )
)]
pub async fn get_authorization(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(SubjectId, AuthorizationId)>,
) -> ApiResult<HttpResponse> {
    let (subject, id) = path.into_inner();
    state
        .authorize(
            &caller,
            Scope::DisclosuresRead,
            Action::DisclosureRead,
            Some(subject),
        )
        .await?;
    let opened = state
        .db
        .run(move |conn| {
            crate::subjects::path::require(conn, subject)?;
            model::authorization(conn, subject, id)
        })
        .await?;
    state
        .log_reads(vec![caller.entry(
            Action::DisclosureRead,
            Some(subject),
            Outcome::Allowed,
        )])
        .await?;
    let body = Authorization::from_row(opened, Utc::now())?;
    Ok(single(StatusCode::OK, &body)?.respond())
}

/// Revokes a disclosure authorization.
///
/// From the moment this returns, the authorization permits no disclosure. Revoking twice is a
/// 409.
#[utoipa::path(
    post, path = paths::AUTHORIZATION_REVOKE, tag = "disclosures",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("aid" = Uuid, Path, description = "The authorization's id"),
    ),
    request_body = Revocation,
    responses(
        (status = 200, description = "Revoked", body = Authorization,
         headers(("ETag" = String, description = "Its version"))),
        (status = 400, description = "Invalid body: every bad field is named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject, or no such authorization of it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The subject was erased (`subject-erased`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<DisclosuresWrite>, JsonBody, Unavailable,
    )
)]
pub async fn revoke_authorization(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(SubjectId, AuthorizationId)>,
    body: BodyAfterAuth<Revocation>,
) -> actix_web::Result<HttpResponse> {
    let (subject, id) = path.into_inner();
    state
        .authorize(
            &caller,
            Scope::DisclosuresWrite,
            Action::DisclosureRevoke,
            Some(subject),
        )
        .await?;
    let reason = body.read().await?.reason;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let actor = caller.actor.sub.clone();
    let entry = caller.entry(Action::DisclosureRevoke, Some(subject), Outcome::Allowed);
    Ok(
        idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            crate::subjects::path::lock(conn, subject, Lock::KeyShare)?;
            let revocation = model::Revocation {
                reason: &reason,
                actor: &actor,
                request_id: &entry.request_id,
            };
            model::revoke(conn, subject, id, revocation, Utc::now())?;
            access_log::record(conn, &[entry])?;
            let opened = model::authorization(conn, subject, id)?;
            let body = Authorization::from_row(opened, Utc::now())?;
            single(StatusCode::OK, &body)
        })
        .await?,
    )
}
