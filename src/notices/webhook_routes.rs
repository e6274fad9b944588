//! Handlers of a recipient's webhooks. Webhooks hold no personal data, so like the recipient
//! registry these check scopes but write no access-log entries. A secret appears only in the
//! answers that make it (registration and rotation); it is stored sealed.

use super::api::{NewWebhook, Webhook, WebhookList, WebhookWithSecret};
use super::webhooks;
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::{RecipientId, WebhookId};
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::responses::{Auth, BadId, JsonBody, RecipientsRead, RecipientsWrite, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

fn new_secret() -> ApiResult<String> {
    super::sign::new_secret().map_err(ApiError::internal)
}

/// Registers a webhook for a recipient.
///
/// Notices to the recipient are posted to `url` from now on, signed with the Standard Webhooks
/// scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The URL must be `https` and
/// its host must resolve only to public addresses (not loopback, private, link-local, CGNAT,
/// benchmarking, unique-local, IPv4-mapped, unspecified or multicast, nor an IPv6 form embedding
/// such an IPv4 address: IPv4-compatible, NAT64, 6to4, Teredo); the address is checked again at
/// every delivery. Redirects are not followed. The answer carries the signing `secret`: it is shown
/// only here, so keep it; a retry with the same `Idempotency-Key` answers the same webhook with the
/// secret null (it is never stored in clear). Notices already waiting stay with the webhook they were queued for.
#[utoipa::path(
    post, path = paths::RECIPIENT_WEBHOOKS, tag = "recipients", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The recipient's id")),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Registered; the only answer besides a rotation that shows the secret", body = WebhookWithSecret),
        (status = 400, description = "A URL that does not parse, is not https or resolves to a forbidden address (`url` is named)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipient", body = Problem, content_type = "application/problem+json"),
        BadId, Auth<RecipientsWrite>, JsonBody, Unavailable,
    )
)]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<RecipientId>,
    body: BodyAfterAuth<NewWebhook>,
) -> actix_web::Result<HttpResponse> {
    caller.require(Scope::RecipientsWrite)?;
    let recipient = id.into_inner();
    let url = body.read().await?.url.trim().to_owned();
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let allow_private = state.webhook_allow_private;
    let checked = url.clone();
    web::block(move || super::url_rule::check(&checked, allow_private))
        .await
        .map_err(ApiError::internal)?
        .map_err(|message| ApiError::invalid_field("url", message))?;
    let secret = new_secret()?;
    Ok(idempotency::commit(&state.db, key, None, move |conn| {
        crate::recipients::model::find(conn, recipient)?;
        let row = webhooks::insert(conn, recipient, &url, &secret)?;
        let created = WebhookWithSecret::new(&row, Some(secret))?;
        let withheld = WebhookWithSecret::new(&row, None)?;
        let location = format!("/v1/recipients/{recipient}/webhooks/{}", row.id);
        Answer::json(StatusCode::CREATED, &created)?
            .location(location)
            .replayed_as(&withheld)
    })
    .await?)
}

/// Lists a recipient's webhooks.
///
/// Oldest first, without their secrets. A webhook whose receiver answered 410 Gone is
/// `disabled`.
#[utoipa::path(
    get, path = paths::RECIPIENT_WEBHOOKS, tag = "recipients", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The recipient's id")),
    responses(
        (status = 200, description = "The recipient's webhooks", body = WebhookList),
        (status = 404, description = "No such recipient", body = Problem, content_type = "application/problem+json"),
        BadId, Auth<RecipientsRead>, Unavailable,
    )
)]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<RecipientId>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RecipientsRead)?;
    let recipient = id.into_inner();
    let rows = state
        .db
        .run(move |conn| {
            crate::recipients::model::find(conn, recipient)?;
            webhooks::of_recipient(conn, recipient)
        })
        .await?;
    let items = rows
        .iter()
        .map(Webhook::from_row)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(WebhookList { items }))
}

/// Deletes a webhook.
///
/// Nothing more is sent to it; its secret is destroyed. Notices still waiting for it become
/// `manual`: staff must tell the recipient another way (or retry them once it has a new webhook).
#[utoipa::path(
    delete, path = paths::RECIPIENT_WEBHOOK, tag = "recipients", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The recipient's id"),
        ("wid" = Uuid, Path, description = "The webhook's id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook of this recipient", body = Problem, content_type = "application/problem+json"),
        BadId, Auth<RecipientsWrite>, Unavailable,
    )
)]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    ids: web::Path<(RecipientId, WebhookId)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RecipientsWrite)?;
    let (recipient, webhook) = ids.into_inner();
    state
        .db
        .transaction(move |conn| {
            let row = webhooks::lock(conn, recipient, webhook)?;
            webhooks::delete(conn, row.id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Gives a webhook a new secret.
///
/// The answer carries the new `secret` (shown only here). For 24 hours the old secret keeps
/// signing beside it, so `webhook-signature` carries two space-separated `v1,` signatures and a
/// receiver can switch without missing a notice.
#[utoipa::path(
    post, path = paths::RECIPIENT_WEBHOOK_ROTATE, tag = "recipients", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The recipient's id"),
        ("wid" = Uuid, Path, description = "The webhook's id"),
    ),
    responses(
        (status = 200, description = "The webhook with its new secret", body = WebhookWithSecret),
        (status = 404, description = "No such webhook of this recipient", body = Problem, content_type = "application/problem+json"),
        BadId, Auth<RecipientsWrite>, Unavailable,
    )
)]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    ids: web::Path<(RecipientId, WebhookId)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RecipientsWrite)?;
    let (recipient, webhook) = ids.into_inner();
    let secret = new_secret()?;
    let shown = secret.clone();
    let row = state
        .db
        .transaction(move |conn| {
            let row = webhooks::lock(conn, recipient, webhook)?;
            webhooks::rotate(conn, &row, &secret)
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret::new(&row, Some(shown))?))
}
