//! Staff handlers: disclosure authorizations and disclosure records.

use super::api::{
    Authorization, AuthorizationList, DataCategory, Disclosure, NewAuthorization, NewDisclosure,
    Revocation,
};
use super::model::{self, NewAuthorizationRow, NewDisclosureRow};
use super::{etag_of, not_authorized};
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Scope;
use crate::error::{ApiError, ApiResult};
use crate::extract::BodyAfterAuth;
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, Params};
use crate::request::Caller;
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

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
    post, path = "/v1/subjects/{id}/disclosure-authorizations", tag = "disclosures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = NewAuthorization,
    responses(
        (status = 201, description = "Authorized", body = Authorization,
         headers(("Location" = String, description = "The new authorization"), ("ETag" = String, description = "Its version"))),
        (status = 400, description = "Invalid body (every bad field is named), or no such recipient", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `disclosures:write`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_authorization(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: BodyAfterAuth<NewAuthorization>,
) -> actix_web::Result<HttpResponse> {
    let subject = id.into_inner();
    state
        .authorize(
            &caller,
            Scope::DisclosuresWrite,
            Action::DisclosureAuthorize,
            Some(subject),
        )
        .await?;
    let body = body.read().await?;
    let now = Utc::now();
    let valid_from = body.valid_from.unwrap_or(now);
    if body.valid_until.is_some_and(|until| until <= valid_from) {
        return Err(ApiError::invalid_field("valid_until", "must be after valid_from").into());
    }
    let categories: BTreeSet<DataCategory> = body.data_categories.iter().copied().collect();
    let row = NewAuthorizationRow {
        id: Uuid::now_v7(),
        subject_id: subject,
        recipient_id: body.recipient_id,
        legal_basis: body.legal_basis.as_str().to_owned(),
        consent_evidence: body.consent_evidence,
        legal_reference: body.legal_reference,
        data_categories: DataCategory::names(&categories),
        purpose: body.purpose,
        valid_from,
        valid_until: body.valid_until,
        created_by: caller.actor.sub.clone(),
        created_at: now,
    };
    let entry = NewEntry::new(
        &caller,
        Action::DisclosureAuthorize,
        Some(subject),
        Outcome::Allowed,
    );
    let key = idempotency::Key::of(&req, &caller)?;
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&entry.clone()), |conn| {
                model::require_subject(conn, subject)?;
                model::require_recipient(conn, row.recipient_id)?;
                model::insert_authorization(conn, &row)?;
                access_log::record(conn, &[entry])?;
                // Read back with the recipient's status, which `active` depends on.
                let (stored, recipient_active) = model::authorization(conn, subject, row.id)?;
                let body = Authorization::from_row(stored, recipient_active, Utc::now());
                single(StatusCode::CREATED, &body)
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Lists a subject's disclosure authorizations.
///
/// All of them, revoked and expired ones included, oldest first, each with whether it is
/// `active` now.
#[utoipa::path(
    get, path = "/v1/subjects/{id}/disclosure-authorizations", tag = "disclosures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "The subject's authorizations", body = AuthorizationList),
        (status = 400, description = "The id is not a UUID", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `disclosures:read`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_authorizations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let subject = id.into_inner();
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
            model::require_subject(conn, subject)?;
            model::authorizations_of(conn, subject)
        })
        .await?;
    state
        .log_reads(vec![NewEntry::new(
            &caller,
            Action::DisclosureRead,
            Some(subject),
            Outcome::Allowed,
        )])
        .await?;
    let now = Utc::now();
    let items = rows
        .into_iter()
        .map(|(row, recipient_active)| Authorization::from_row(row, recipient_active, now))
        .collect();
    Ok(HttpResponse::Ok().json(AuthorizationList { items }))
}

/// Reads one disclosure authorization.
#[utoipa::path(
    get, path = "/v1/subjects/{id}/disclosure-authorizations/{aid}", tag = "disclosures",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("aid" = Uuid, Path, description = "The authorization's id"),
    ),
    responses(
        (status = 200, description = "The authorization", body = Authorization,
         headers(("ETag" = String, description = "Its version"))),
        (status = 400, description = "An id is not a UUID", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `disclosures:read`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such authorization of this subject", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_authorization(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
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
    let (row, recipient_active) = state
        .db
        .run(move |conn| model::authorization(conn, subject, id))
        .await?;
    state
        .log_reads(vec![NewEntry::new(
            &caller,
            Action::DisclosureRead,
            Some(subject),
            Outcome::Allowed,
        )])
        .await?;
    let body = Authorization::from_row(row, recipient_active, Utc::now());
    Ok(single(StatusCode::OK, &body)?.respond())
}

/// Revokes a disclosure authorization.
///
/// From the moment this returns, the authorization permits no disclosure. Revoking twice is a
/// 409.
#[utoipa::path(
    post, path = "/v1/subjects/{id}/disclosure-authorizations/{aid}/revoke", tag = "disclosures",
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
        (status = 401, description = "No valid bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `disclosures:write`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such authorization of this subject", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_authorization(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
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
    let actor = caller.actor.sub.clone();
    let entry = NewEntry::new(
        &caller,
        Action::DisclosureRevoke,
        Some(subject),
        Outcome::Allowed,
    );
    let key = idempotency::Key::of(&req, &caller)?;
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&entry.clone()), |conn| {
                model::revoke(conn, subject, id, &reason, &actor, Utc::now())?;
                access_log::record(conn, &[entry])?;
                let (row, recipient_active) = model::authorization(conn, subject, id)?;
                let body = Authorization::from_row(row, recipient_active, Utc::now());
                single(StatusCode::OK, &body)
            })
        })
        .await?;
    Ok(answer.respond())
}

/// Records a disclosure made by staff.
///
/// Accepted only when active authorizations of an active recipient for this subject together
/// cover every category disclosed; otherwise 403 `disclosure-not-authorized`, and the refused
/// attempt is logged.
#[utoipa::path(
    post, path = "/v1/subjects/{id}/disclosures", tag = "disclosures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = NewDisclosure,
    responses(
        (status = 201, description = "Recorded", body = Disclosure,
         headers(("ETag" = String, description = "A tag of this representation"))),
        (status = 400, description = "Invalid body (every bad field is named), or no such recipient", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `disclosures:write`, or no active authorization covers the disclosure (`disclosure-not-authorized`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn record_disclosure(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: BodyAfterAuth<NewDisclosure>,
) -> actix_web::Result<HttpResponse> {
    let subject = id.into_inner();
    state
        .authorize(
            &caller,
            Scope::DisclosuresWrite,
            Action::DisclosureRecord,
            Some(subject),
        )
        .await?;
    let body = body.read().await?;
    let wanted: BTreeSet<DataCategory> = body.data_categories.iter().copied().collect();
    let entry = NewEntry::new(
        &caller,
        Action::DisclosureRecord,
        Some(subject),
        Outcome::Allowed,
    );
    let (actor, request_id) = (caller.actor.sub.clone(), caller.request_id.clone());
    let key = idempotency::Key::of(&req, &caller)?;
    let replay_entry = entry.clone();
    let outcome = state
        .db
        .transaction(move |conn| {
            if let Some(key) = &key {
                if let Some(answer) = idempotency::claim(conn, key, Some(&replay_entry))? {
                    return Ok(Ok(answer));
                }
            }
            model::require_subject(conn, subject)?;
            model::require_recipient(conn, body.recipient_id)?;
            let now = Utc::now();
            let grants = model::active_grants(conn, subject, body.recipient_id, now)?;
            let missing: Vec<DataCategory> = wanted
                .difference(&model::covered(&grants))
                .copied()
                .collect();
            if !missing.is_empty() {
                return Ok(Err(missing));
            }
            let row = NewDisclosureRow {
                id: Uuid::now_v7(),
                subject_id: subject,
                recipient_id: body.recipient_id,
                data_categories: DataCategory::names(&wanted),
                channel: body.channel.trim().to_owned(),
                note: body.note,
                authorization_ids: model::used_for(&grants, &wanted),
                actor,
                at: now,
                request_id,
            };
            let stored = model::insert_disclosure(conn, &row)?;
            access_log::record(conn, &[entry])?;
            let body = Disclosure::from(stored);
            let answer = Answer::json(StatusCode::CREATED, &body)?.etag(etag_of(&body));
            if let Some(key) = &key {
                idempotency::store(conn, key, Some(&replay_entry), &answer)?;
            }
            Ok(Ok(answer))
        })
        .await?;
    match outcome {
        Ok(answer) => Ok(answer.respond()),
        Err(missing) => {
            let names: Vec<&str> = missing.iter().map(|c| c.as_str()).collect();
            let detail = format!(
                "no active authorization of an active recipient covers: {}",
                names.join(", ")
            );
            Ok(state
                .deny(
                    &caller,
                    Action::DisclosureRecord,
                    Some(subject),
                    not_authorized(detail),
                )
                .await?)
        }
    }
}

/// Lists the disclosures of a subject's data.
///
/// Oldest first: those recorded by staff and those made through the partner endpoint
/// (channel `partner_api`).
#[utoipa::path(
    get, path = "/v1/subjects/{id}/disclosures", tag = "disclosures",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("limit" = Option<i64>, Query, description = "Page size, 1..1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of disclosures", body = Page<Disclosure>),
        (status = 400, description = "A bad id or query parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `disclosures:read`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_disclosures(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let subject = id.into_inner();
    state
        .authorize(
            &caller,
            Scope::DisclosuresRead,
            Action::DisclosureRead,
            Some(subject),
        )
        .await?;
    let mut params = Params::new(query.into_inner());
    let limit = params.limit();
    let cursor = params.cursor::<Uuid>();
    params.finish()?;
    let rows = state
        .db
        .run(move |conn| {
            model::require_subject(conn, subject)?;
            model::disclosures_of(conn, subject, cursor, Some(limit))
        })
        .await?;
    state
        .log_reads(vec![NewEntry::new(
            &caller,
            Action::DisclosureRead,
            Some(subject),
            Outcome::Allowed,
        )])
        .await?;
    let items = rows.into_iter().map(Disclosure::from).collect();
    Ok(
        HttpResponse::Ok().json(Page::from_rows(items, limit, |d: &Disclosure| {
            d.id.to_string()
        })),
    )
}
