//! The receipt endpoints: one consent event's signed receipt, and the published keys.

use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::ids::{EventId, SubjectId};
use crate::error::{ApiError, ApiResult, Problem};
use crate::paths;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// Returns the signed receipt of one consent event.
///
/// A compact JWS (`alg` `EdDSA`, `kid` naming a key of `/.well-known/jwks.json`) whose payload is
/// a Kantara Consent Receipt v1.1: `consentReceiptID` is the event id, `piiPrincipalId` the
/// subject id, `status` `granted` or `withdrawn`; the purpose's `consentType` is `explicit` for an
/// opt-in purpose and `objection` for the withdrawal of an opt-out one. The read is logged
/// (`consent.receipt`). A receipt is not a token: presented as one, it is refused. The same
/// compact JWS is served as `text/plain` to a client whose `Accept` prefers `text/plain` to
/// `application/jose` (q-values and wildcards weighed; `application/jose` on a tie), for
/// generated clients and tools that know no JOSE media type.
#[utoipa::path(get, path = paths::SUBJECT_CONSENT_RECEIPT, tag = "consents", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("event_id" = Uuid, Path, description = "The consent event's id (from the history)"),
    ),
    responses(
        (status = 200, description = "The receipt, a compact JWS", content(
            (String = "application/jose"),
            (String = "text/plain"),
        )),
        (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `consents:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject, or no such consent event of it", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The subject was erased (`subject-erased`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database or the access log is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(SubjectId, EventId)>,
) -> ApiResult<HttpResponse> {
    let (subject, event) = path.into_inner();
    state
        .authorize(
            &caller,
            Scope::ConsentsRead,
            Action::ConsentReceipt,
            Some(subject),
        )
        .await?;
    let jws = state
        .db
        .run(move |conn| {
            crate::subjects::path::require(conn, subject)?;
            super::find(conn, subject, event)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("consent event"))?;
    let entry = caller.entry(Action::ConsentReceipt, Some(subject), Outcome::Allowed);
    state.log_reads(vec![entry]).await?;
    Ok(HttpResponse::Ok().content_type(media_type(&req)).body(jws))
}

/// `application/jose`, unless the client prefers `text/plain` to it.
fn media_type(req: &HttpRequest) -> &'static str {
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    match crate::media_type::preferred(accept, &["application/jose", "text/plain"]) {
        Some("text/plain") => "text/plain; charset=utf-8",
        _ => "application/jose",
    }
}

/// Lists the keys that sign consent receipts, as a JWK set; needs no token.
///
/// Each key is an OKP Ed25519 JWK with `kid`, `use` `sig` and `alg` `EdDSA`. Retired keys stay
/// listed so that every receipt ever issued can still be checked.
#[utoipa::path(get, path = paths::JWKS, tag = "consents",
    responses(
        (status = 200, description = "The JWK set", body = Object),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn jwks(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let keys = state.db.run(super::published::key_set).await?;
    Ok(HttpResponse::Ok().json(keys))
}
