//! Handlers of purpose versions: add one (`If-Match` on the purpose), list them, read one.

use super::model;
use super::versions::{self, NewVersion, PurposeVersion, VersionList};
use crate::access_log::{Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::consent::Basis;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::precondition;
use crate::responses::{Auth, ConsentsRead, ConsentsWrite, JsonBody, Unavailable};
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

/// Grants of the purpose in force now (`given` or `renewed`): what a material version
/// invalidates. Counted through the purpose's partial reading of `consents_purpose`.
const IN_FORCE_SQL: &str = "\
SELECT count(*) AS n FROM consents c JOIN purposes p ON p.id = c.purpose_id
WHERE c.purpose_id = $1 AND c.status = 'granted' AND p.basis = 'opt_in'
  AND consent_state(c.status, c.ever_granted, c.renewed, c.purpose_version < p.material_version,
                    c.expires_at, c.confirmation_expires_at, now()) IN ('given', 'renewed')";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Adds a version of a purpose and makes it current.
///
/// `If-Match` must name the purpose's current version (its `ETag`): missing 428, stale 412.
/// `validity_months`, `confirmation` `double_opt_in` and `minimum_age` are for opt-in purposes
/// only (400 on an opt-out one). A material version of an opt-in purpose invalidates every
/// earlier grant at once, without rewriting them (their state is computed when read), and
/// writes one `purpose.version` access-log entry whose `count` is the grants it invalidated.
#[utoipa::path(post, path = paths::PURPOSE_VERSIONS, tag = "consents", security(("bearer" = [])),
    params(
        ("purpose" = String, Path, description = "The purpose's id"),
        ("If-Match" = String, Header, description = "The purpose's ETag, `\"<current_version>\"`"),
    ),
    request_body = NewVersion,
    responses(
        (status = 201, description = "The version, now current", body = PurposeVersion,
            headers(
                ("Location" = String, description = "The version's URL"),
                ("ETag" = String, description = "The purpose's new current version"),
            )),
        (status = 400, description = "Invalid body; `errors` names every bad field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purpose", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` does not name the current version", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_purpose_version(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    purpose: web::Path<String>,
    body: BodyAfterAuth<NewVersion>,
) -> actix_web::Result<HttpResponse> {
    caller.require(Scope::ConsentsWrite)?;
    let new = body.read().await?;
    let purpose = purpose.into_inner();
    let key = idempotency::Key::of(&req, &caller.actor)?;
    // Judged after the 404 and the body's 400, inside the transaction.
    let if_match = precondition::IfMatch::of(req.headers(), "purpose");
    let entry = new
        .material
        .then(|| caller.entry(Action::PurposeVersion, None, Outcome::Allowed));
    Ok(
        idempotency::commit(&state.db, key, entry.clone(), move |conn| {
            let row = crate::db::schema::purposes::table
                .find(&purpose)
                .select(model::PurposeRow::as_select())
                .for_update()
                .first(conn)
                .optional()?
                .ok_or_else(|| ApiError::not_found("purpose"))?;
            let errors = new.errors_for(Some(Basis::from_db(&row.basis)?));
            if !errors.is_empty() {
                return Err(ApiError::invalid(errors));
            }
            let mut next = row.current_version;
            if_match?.bump(&mut next)?;
            if let Some(entry) = &entry {
                let invalidated = diesel::sql_query(IN_FORCE_SQL)
                    .bind::<Text, _>(&purpose)
                    .get_result::<Count>(conn)?
                    .n;
                let entry = entry
                    .clone()
                    .with_count(usize::try_from(invalidated).unwrap_or(0));
                crate::access_log::record(conn, &[entry])?;
            }
            let version = versions::insert_next(conn, &purpose, next, &new)?;
            let location = format!("/v1/purposes/{purpose}/versions/{next}");
            Ok(
                Answer::json(StatusCode::CREATED, &PurposeVersion::try_from(version)?)?
                    .location(location)
                    .etag(precondition::etag(next)),
            )
        })
        .await?,
    )
}

/// Lists every version of a purpose, oldest first. Purposes are not personal data: no entry.
#[utoipa::path(get, path = paths::PURPOSE_VERSIONS, tag = "consents", security(("bearer" = [])),
    params(("purpose" = String, Path, description = "The purpose's id")),
    responses(
        (status = 200, description = "Every version", body = VersionList),
        (status = 404, description = "No such purpose", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsRead>, Unavailable,
    ))]
pub async fn list_purpose_versions(
    state: web::Data<AppState>,
    caller: Caller,
    purpose: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::ConsentsRead)?;
    let purpose = purpose.into_inner();
    let rows = state
        .db
        .run(move |conn| {
            let rows = versions::list(conn, &purpose)?;
            if rows.is_empty() {
                return Err(ApiError::not_found("purpose"));
            }
            Ok(rows)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(PurposeVersion::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(VersionList { items }))
}

/// Reads one version of a purpose: the text a grant of that version agreed to.
#[utoipa::path(get, path = paths::PURPOSE_VERSION, tag = "consents", security(("bearer" = [])),
    params(
        ("purpose" = String, Path, description = "The purpose's id"),
        ("n" = i32, Path, description = "The version number"),
    ),
    responses(
        (status = 200, description = "The version", body = PurposeVersion),
        (status = 400, description = "Malformed version number", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purpose or version", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsRead>, Unavailable,
    ))]
pub async fn get_purpose_version(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i32)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::ConsentsRead)?;
    let (purpose, n) = path.into_inner();
    let row = state
        .db
        .run(move |conn| {
            versions::find(conn, &purpose, n)?.ok_or_else(|| ApiError::not_found("version"))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, precondition::etag(row.version)))
        .json(PurposeVersion::try_from(row)?))
}
