//! Handlers of the recipient registry. Recipients are organisations, not data subjects, so these
//! endpoints check scopes but write no access-log entries.

use super::api::{NewRecipient, Recipient, RecipientPatch};
use super::model::{self, Changes, Filter, NewRecipientRow};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::RecipientId;
use crate::domain::recipient::{RecipientCategory, RecipientStatus};
use crate::error::ApiResult;
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, BadId, JsonBody, Precondition, RecipientsRead, RecipientsWrite, Unavailable,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use std::collections::HashMap;

fn answer(status: StatusCode, recipient: Recipient) -> ApiResult<Answer> {
    let answer = Answer::json(status, &recipient)?.etag(precondition::etag(recipient.version));
    if status != StatusCode::CREATED {
        return Ok(answer);
    }
    Ok(answer.location(format!("/v1/recipients/{}", recipient.id)))
}

fn respond(status: StatusCode, recipient: Recipient) -> ApiResult<HttpResponse> {
    Ok(answer(status, recipient)?.respond())
}

/// Registers a recipient.
///
/// An organisation that may receive personal data, in one of the policy's recipient categories.
/// It starts `active`. A registry code already registered is a 409.
#[utoipa::path(
    post, path = paths::RECIPIENTS, tag = "recipients", security(("bearer" = [])),
    request_body = NewRecipient,
    responses(
        (status = 201, description = "Registered", body = Recipient,
         headers(("Location" = String, description = "The new recipient"), ("ETag" = String, description = "Its version"))),
        (status = 400, description = "Invalid body: every bad field is named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The registry code is already registered", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<RecipientsWrite>, JsonBody, Unavailable,
    )
)]
pub async fn create_recipient(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<NewRecipient>,
) -> actix_web::Result<HttpResponse> {
    caller.require(Scope::RecipientsWrite)?;
    let body = body.read().await?;
    let now = Utc::now();
    let row = NewRecipientRow {
        id: RecipientId::new(),
        name: body.name.trim().to_owned(),
        registry_code: body.registry_code,
        category: body.category.as_str().to_owned(),
        contact_email: body.contact_email,
        status: RecipientStatus::Active.as_str().to_owned(),
        created_at: now,
        updated_at: now,
    };
    let key = idempotency::Key::of(&req, &caller.actor)?;
    Ok(idempotency::commit(&state.db, key, None, move |conn| {
        answer(
            StatusCode::CREATED,
            Recipient::from_row(model::insert(conn, &row)?)?,
        )
    })
    .await?)
}

/// Lists recipients.
///
/// Oldest first, optionally only those of one `status` and/or `category`.
#[utoipa::path(
    get, path = paths::RECIPIENTS, tag = "recipients", security(("bearer" = [])),
    params(
        ("status" = Option<RecipientStatus>, Query, description = "Only recipients with this status"),
        ("category" = Option<RecipientCategory>, Query, description = "Only recipients of this category"),
        ("limit" = Option<i64>, Query, description = "Page size, 1..1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of recipients", body = Page<Recipient>),
        (status = 400, description = "A bad query parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<RecipientsRead>, Unavailable,
    )
)]
pub async fn list_recipients(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RecipientsRead)?;
    let mut params = Params::new(query.into_inner());
    let filter = Filter {
        status: params.with("status", |s| {
            RecipientStatus::parse(s).map(|s| s.as_str().to_owned())
        }),
        category: params.with("category", |c| {
            RecipientCategory::parse(c).map(|c| c.as_str().to_owned())
        }),
    };
    let limit = params.limit();
    let cursor = params.cursor::<RecipientId>();
    params.finish()?;
    let rows = state
        .db
        .run(move |conn| model::list(conn, &filter, cursor, limit))
        .await?;
    let items = rows
        .into_iter()
        .map(Recipient::from_row)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |r| r.id.to_string())))
}

/// Reads one recipient.
#[utoipa::path(
    get, path = paths::RECIPIENT, tag = "recipients", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The recipient's id")),
    responses(
        (status = 200, description = "The recipient", body = Recipient,
         headers(("ETag" = String, description = "Its version"))),
        (status = 404, description = "No such recipient", body = crate::error::Problem, content_type = "application/problem+json"),
        BadId, Auth<RecipientsRead>, Unavailable,
    )
)]
pub async fn get_recipient(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<RecipientId>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RecipientsRead)?;
    let id = id.into_inner();
    let row = state.db.run(move |conn| model::find(conn, id)).await?;
    respond(StatusCode::OK, Recipient::from_row(row)?)
}

/// Changes a recipient.
///
/// A JSON merge patch of `name`, `contact_email` and `status`. Suspending a recipient stops
/// every disclosure to it at once; its authorizations stay, inactive, until it is active again.
/// `If-Match` with the current `ETag` is required.
#[utoipa::path(
    patch, path = paths::RECIPIENT, tag = "recipients", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The recipient's id"),
        ("If-Match" = String, Header, description = "The `ETag` last read"),
    ),
    request_body(content = RecipientPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = Recipient,
         headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "Invalid body: every bad field is named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipient", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<RecipientsWrite>, JsonBody, Precondition, Unavailable,
    )
)]
pub async fn patch_recipient(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<RecipientId>,
    body: BodyAfterAuth<RecipientPatch>,
) -> actix_web::Result<HttpResponse> {
    caller.require(Scope::RecipientsWrite)?;
    let id = id.into_inner();
    // A malformed request is a 400 whatever its preconditions say.
    let patch = body.read().await?;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let if_match = precondition::IfMatch::of(req.headers(), "recipient")?;
    let changes = Changes {
        name: patch.name.flatten().map(|n| n.trim().to_owned()),
        contact_email: patch.contact_email.flatten(),
        status: patch.status.flatten().map(|s| s.as_str().to_owned()),
    };
    Ok(idempotency::commit(&state.db, key, None, move |conn| {
        let row = model::update(conn, id, changes, if_match)?;
        answer(StatusCode::OK, Recipient::from_row(row)?)
    })
    .await?)
}
