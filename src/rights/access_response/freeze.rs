//! `POST /v1/privacy-requests/{id}/access-response`: freezes the access response that answers an
//! `access` request — its RFC 8785 JSON sealed under the subject's key, its SHA-256 and a detached
//! JWS with the receipt key — and answers a one-time download link (7 days).

use super::frozen::{self, NewFrozen};
use super::{gather, html};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::db::schema::privacy_requests;
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::domain::language::Language;
use crate::domain::privacy_request::{RequestKind, RequestStatus};
use crate::error::{ApiError, ApiResult};
use crate::extract::Validate;
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::responses::{Auth, JsonBody, RequestsWrite, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

/// The JWS `typ` of a frozen response.
pub const TYP: &str = "access-response+jws";

/// What to freeze.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    /// The language; default the subject's `preferred_language`, else `en`.
    #[serde(default)]
    #[schema(value_type = Option<Language>)]
    pub lang: Option<Language>,
}

impl Validate for Freeze {}

/// A frozen response. `download_url` is answered once: an idempotent replay shows it null.
#[derive(Debug, Serialize, ToSchema)]
pub struct Frozen {
    pub id: Uuid,
    /// SHA-256 (hex) of the frozen RFC 8785 JSON.
    pub sha256: String,
    /// A compact EdDSA JWS with detached payload (`<header>..<signature>`, typ
    /// `access-response+jws`) over the frozen JSON; the key is in `/.well-known/jwks.json`.
    pub jws: String,
    /// `/v1/downloads/<token>`: one use, valid until `expires_at`.
    pub download_url: Option<String>,
    pub expires_at: DateTime<Utc>,
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::client(StatusCode::CONFLICT, code, detail.to_owned())
}

/// The request's subject, once the request may be answered by a frozen response: 404, 409
/// `request-kind-mismatch`, `request-without-subject`, `request-closed`, `request-unverified`.
pub(super) fn answerable(
    conn: &mut PgConnection,
    id: PrivacyRequestId,
    require_verified: bool,
) -> ApiResult<(SubjectId, Option<String>)> {
    type Found = (String, Option<SubjectId>, String, Option<DateTime<Utc>>);
    let (kind, subject, status, verified): Found = privacy_requests::table
        .find(id)
        .select((
            privacy_requests::kind,
            privacy_requests::subject_id,
            privacy_requests::status,
            privacy_requests::verified_at,
        ))
        .for_share()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("privacy request"))?;
    if kind != RequestKind::Access.as_str() {
        return Err(conflict(
            "request-kind-mismatch",
            "only an `access` request is answered by an access response",
        ));
    }
    let subject = subject.ok_or_else(|| {
        conflict(
            "request-without-subject",
            "the request names no subject: set its subject first",
        )
    })?;
    if status != RequestStatus::Open.as_str() {
        return Err(conflict("request-closed", "the request is already closed"));
    }
    if verified.is_none() && require_verified {
        return Err(conflict(
            "request-unverified",
            "the requester's identity is not verified (REQUIRE_VERIFIED_REQUESTS)",
        ));
    }
    crate::subjects::path::require(conn, subject)?;
    let preferred: Option<String> = crate::db::schema::subjects::table
        .find(subject)
        .select(crate::db::schema::subjects::preferred_language)
        .first(conn)?;
    Ok((subject, preferred))
}

/// 403 (logged) unless the caller holds both scopes a frozen response needs: it is the
/// person's data (`subjects:read`) answering a request (`requests:write`).
pub(super) async fn authorize(state: &AppState, caller: &Caller) -> ApiResult<()> {
    for scope in [Scope::RequestsWrite, Scope::SubjectsRead] {
        state
            .authorize(caller, scope, Action::AccessResponseFreeze, None)
            .await?;
    }
    Ok(())
}

/// A new one-time token: 32 random bytes as 43 base64url characters, and its SHA-256.
pub fn new_token() -> ApiResult<(String, [u8; 32])> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(ApiError::internal)?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = Sha256::digest(token.as_bytes()).into();
    Ok((token, hash))
}

/// Freezes the access response that answers an `access` request.
///
/// Needs `requests:write` and `subjects:read`. `lang` defaults to the subject's preferred
/// language, else `en`. Stores the response's RFC 8785 JSON (and the page made from it) sealed
/// under the subject's key, its SHA-256 and a detached JWS (`access-response+jws`), and answers
/// a one-time download link valid for 168 hours; only the token's SHA-256 is kept. Writes
/// `access_response.freeze`. An idempotent replay answers the same with `download_url` null.
#[utoipa::path(post, path = paths::PRIVACY_REQUEST_ACCESS_RESPONSE, tag = "privacy-requests", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body = Freeze,
    responses(
        (status = 201, description = "Frozen", body = Frozen),
        (status = 400, description = "An unknown `lang`, named; or the id is not a UUID", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Without `subjects:read` as well", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`request-kind-mismatch`, `request-without-subject`, `request-closed` or `request-unverified`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "`subject-erased`", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<RequestsWrite>, JsonBody, Unavailable,
    ))]
pub async fn freeze(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<PrivacyRequestId>,
    body: BodyAfterAuth<Freeze>,
) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    authorize(&state, &caller).await?;
    let asked = body.read().await?.lang;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let mut entry = caller.entry(Action::AccessResponseFreeze, None, Outcome::Allowed);
    let require_verified = state.require_verified_requests;
    let actor = caller.actor.sub.clone();
    let answer = state
        .db
        .transaction(move |conn| {
            let (subject, preferred) = answerable(conn, id, require_verified)?;
            entry.subject_id = Some(subject.uuid());
            idempotency::run(conn, key.as_ref(), Some(&entry), |conn| {
                let lang = asked
                    .or_else(|| preferred.as_deref().and_then(|p| Language::parse(p).ok()))
                    .unwrap_or(Language::En);
                let response = gather::build_in(conn, subject, lang)?;
                // The person receives it: staff and partner `sub`s become their kinds (C-579/21).
                let hidden = crate::me::redact::hidden_actors(conn, subject)?;
                let mut value = serde_json::to_value(&response).map_err(ApiError::internal)?;
                crate::me::redact::redact(&mut value["personal_data"], &hidden);
                let json = serde_json_canonicalizer::to_vec(&value).map_err(ApiError::internal)?;
                let sha256 = hex(&Sha256::digest(&json));
                let jws = crate::receipts::key()?.detached(TYP, &json);
                let now = Utc::now().trunc_subsecs(6);
                let row = frozen::insert(
                    conn,
                    &NewFrozen {
                        id: Uuid::now_v7(),
                        request_id: id,
                        subject_id: subject,
                        lang: lang.as_str(),
                        json: &json,
                        html: &html::render(&response),
                        sha256,
                        jws,
                        actor: &actor,
                        created_at: now,
                    },
                )?;
                access_log::record(conn, &[entry.clone()])?;
                linked(conn, &row, now)
            })
        })
        .await?;
    Ok(answer.respond())
}

/// A new one-time link for the frozen response (killing the ones before it), answered once:
/// 201 with its `download_url`, which an idempotent replay shows null.
pub(super) fn linked(
    conn: &mut PgConnection,
    row: &frozen::FrozenRow,
    now: DateTime<Utc>,
) -> ApiResult<Answer> {
    let (token, hash) = new_token()?;
    let expires_at = frozen::new_link(conn, row, hash, now)?;
    let mut answer = Frozen {
        id: row.id,
        sha256: row.sha256.clone(),
        jws: row.jws.clone(),
        download_url: Some(format!("/v1/downloads/{token}")),
        expires_at,
    };
    let first = Answer::json(StatusCode::CREATED, &answer)?;
    answer.download_url = None;
    first.replayed_as(&answer)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
