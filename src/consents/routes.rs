//! Handlers of purposes, consent flags, consent history and bulk eligibility checks.

use super::api::{Consent, ConsentChange, ConsentEvent, Eligibility, EligibilityRequest};
use super::eligibility_body::parse_eligibility;
use super::model;
use super::purpose_api::{NewPurpose, Purpose, PurposeList};
use crate::access_log::{Action, NewEntry, Outcome};
use crate::auth::Scope;
use crate::body::Body;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::consent::Basis;
use crate::domain::ids::{EventId, SubjectId};
use crate::domain::purpose_id;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, Answer};
use crate::pagination::Page;
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, BadId, ConsentsRead, ConsentsWrite, JsonBody, LogUnavailable, NoSubject, Unavailable,
};
use crate::state::AppState;
use crate::subjects::path::SubjectPath;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::HashMap;

/// Lists every purpose of processing and its legal basis.
///
/// `opt_out` purposes apply unless the person refused; `opt_in` purposes only with consent.
/// Purposes are not personal data: reading them writes no access-log entry.
#[utoipa::path(get, path = paths::PURPOSES, tag = "consents", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every purpose", body = PurposeList),
        Auth<ConsentsRead>, Unavailable,
    ))]
pub async fn list_purposes(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require(Scope::ConsentsRead)?;
    let rows = state.db.run(|conn| Ok(model::list_purposes(conn)?)).await?;
    let items = rows
        .into_iter()
        .map(Purpose::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(PurposeList { items }))
}

/// Reads one purpose with the settings of its version in force.
#[utoipa::path(get, path = paths::PURPOSE, tag = "consents", security(("bearer" = [])),
    params(("purpose" = String, Path, description = "The purpose's id")),
    responses(
        (status = 200, description = "The purpose", body = Purpose,
            headers(("ETag" = String, description = "The purpose's current version, `\"<n>\"`"))),
        (status = 400, description = "Malformed request", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purpose", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsRead>, Unavailable,
    ))]
pub async fn get_purpose(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::ConsentsRead)?;
    let id = id.into_inner();
    let row = state
        .db
        .run(move |conn| {
            model::find_current(conn, &id)?.ok_or_else(|| ApiError::not_found("purpose"))
        })
        .await?;
    let etag = precondition::etag(row.0.current_version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .json(Purpose::try_from(row)?))
}

/// Adds a purpose of processing.
///
/// The `id` (`^[a-z][a-z0-9_]{1,63}$`) becomes the `{purpose}` of the consent paths; both
/// descriptions are required. An id that is taken is 409.
#[utoipa::path(post, path = paths::PURPOSES, tag = "consents", security(("bearer" = [])),
    request_body = NewPurpose,
    responses(
        (status = 201, description = "The purpose was added", body = Purpose,
            headers(
                ("Location" = String, description = "The purpose's URL"),
                ("ETag" = String, description = "The purpose's current version, `\"1\"`"),
            )),
        (status = 400, description = "Invalid body; `errors` names every bad field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A purpose with this id exists", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_purpose(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<NewPurpose>,
) -> actix_web::Result<HttpResponse> {
    caller.require(Scope::ConsentsWrite)?;
    let new = body.read().await?.check().map_err(ApiError::invalid)?;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    Ok(idempotency::commit(&state.db, key, None, move |conn| {
        let row = model::insert_purpose(
            conn,
            &model::NewPurposeRow {
                id: new.id.as_str(),
                basis: new.basis.as_str(),
                description_et: &new.et,
                description_en: &new.en,
            },
        )?;
        super::versions::insert_first(conn, &row.id, &new.et, &new.en)?;
        let current = model::find_current(conn, &row.id)?
            .ok_or_else(|| ApiError::internal("a purpose without its first version"))?;
        let location = format!("/v1/purposes/{}", row.id);
        let etag = precondition::etag(row.current_version);
        Ok(
            Answer::json(StatusCode::CREATED, &Purpose::try_from(current)?)?
                .location(location)
                .etag(etag),
        )
    })
    .await?)
}

/// Reads the subject's consent and opt-out flags: one per purpose, `unset` included.
///
/// `eligible` says whether the person may be contacted for the purpose now: for an `opt_out`
/// purpose unless withdrawn, for an `opt_in` purpose only when granted.
#[utoipa::path(get, path = paths::SUBJECT_CONSENTS, tag = "consents", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "The flag of every purpose", body = Vec<Consent>),
        BadId, Auth<ConsentsRead>, NoSubject, LogUnavailable,
    ))]
pub async fn list_consents(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
) -> ApiResult<HttpResponse> {
    let id = path.id();
    state
        .authorize(&caller, Scope::ConsentsRead, Action::ConsentRead, Some(id))
        .await?;
    let consents = state
        .db
        .run(move |conn| {
            path.check(conn)?;
            super::consents_of(conn, id)
        })
        .await?;
    state.log_reads(vec![read_entry(&caller, id)]).await?;
    Ok(HttpResponse::Ok().json(consents))
}

fn read_entry(caller: &Caller, subject: SubjectId) -> NewEntry {
    caller.entry(Action::ConsentRead, Some(subject), Outcome::Allowed)
}

/// Records the subject's decision about one purpose.
///
/// The flag, the consent event (who, when, how, on what evidence, in which request) and the
/// access-log entry commit together before the answer, so a withdrawal holds for every request
/// that starts after this one returns. Concurrent changes of one flag are serialized: the flag
/// ends equal to the newest event, and every event is kept.
#[utoipa::path(put, path = paths::SUBJECT_CONSENT, tag = "consents", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("purpose" = String, Path, description = "The purpose's id"),
    ),
    request_body = ConsentChange,
    responses(
        (status = 200, description = "The flag's new state", body = Consent,
            headers(("ETag" = String, description = "The id of the event that set this state"))),
        (status = 400, description = "Invalid body or subject id; `errors` names every bad field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject, purpose or guardian", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`purpose-version-stale`: `purpose_version` is not the current version", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The subject was erased (`subject-erased`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A grant under the version's `minimum_age`: `guardian-consent-required`, `guardian-not-adult` (the guardian is under 18 by their own code), or `age-unknown` (no personal code and no `age_confirmed`)", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsWrite>, JsonBody, Unavailable,
    ))]
pub async fn set_consent(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(SubjectId, String)>,
    body: BodyAfterAuth<ConsentChange>,
) -> actix_web::Result<HttpResponse> {
    let (subject_id, purpose) = path.into_inner();
    state
        .authorize(
            &caller,
            Scope::ConsentsWrite,
            Action::ConsentChange,
            Some(subject_id),
        )
        .await?;
    // Only once the scope is checked: a caller without it is refused (and logged) whatever it sent.
    let change = body.read().await?;
    let decision = super::decide::Decision {
        subject_id,
        purpose,
        change,
        login_confirms: false,
    };
    super::decide::record(&state, &caller, &req, decision).await
}

/// Bulk eligibility checks running at once (one per core of the machine this was sized on).
static BULK_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Lists the subject's consent events, newest first: the receipt of every decision recorded.
#[utoipa::path(get, path = paths::SUBJECT_CONSENT_HISTORY, tag = "consents", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("purpose" = Option<String>, Query, description = "Only the events of this purpose"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of consent events, newest first", body = Page<ConsentEvent>),
        (status = 400, description = "Malformed subject id or query parameter; `errors` names each", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsRead>, NoSubject, LogUnavailable,
    ))]
pub async fn consent_history(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    path.read_page(
        &state,
        &caller,
        (Scope::ConsentsRead, Action::ConsentRead),
        query.into_inner(),
        |params| {
            let before = params.cursor::<EventId>();
            (before, params.text("purpose", purpose_id::MAX_LEN))
        },
        |conn, id, (before, purpose), fetch| {
            model::history(conn, id, purpose.as_deref(), before, Some(fetch))?
                .into_iter()
                .map(ConsentEvent::try_from)
                .collect()
        },
        |e: &ConsentEvent| e.id.to_string(),
    )
    .await
}

/// Sorts up to 100,000 subject ids by whether they may be contacted for a purpose now.
///
/// Every distinct id is answered once, in `eligible`, `not_eligible` or `unknown` (no such
/// subject); the order within each list is unspecified. The request writes one access-log entry,
/// `consent.eligibility` with no subject and the number of distinct ids as `count`.
#[utoipa::path(post, path = paths::ELIGIBILITY, tag = "consents", security(("bearer" = [])),
    request_body = EligibilityRequest,
    responses(
        (status = 200, description = "The ids, sorted by eligibility", body = Eligibility),
        (status = 400, description = "Invalid body (more than 100,000 ids, a malformed id); `errors` names every bad field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such purpose", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<ConsentsRead>, JsonBody, LogUnavailable,
    ))]
pub async fn check_eligibility(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(
            &caller,
            Scope::ConsentsRead,
            Action::ConsentEligibility,
            None,
        )
        .await?;
    // Only once the scope is checked: a caller without it is refused (and logged) whatever it sent.
    let EligibilityRequest {
        purpose,
        mut subject_ids,
    } = body.read_with(parse_eligibility).await?;
    // Each check holds a few MiB and a database core for a fraction of a second: more at once
    // only queue in PostgreSQL while multiplying the memory held.
    let _permit = BULK_CHECKS
        .acquire()
        .await
        .map_err(|_| ApiError::Unavailable)?;
    let (purpose, count, sorted) = state
        .db
        .run(move |conn| {
            let row = model::find_purpose(conn, &purpose)?
                .ok_or_else(|| ApiError::not_found("purpose"))?;
            let basis = Basis::from_db(&row.basis)?;
            let unset_eligible = basis.eligible(None);
            let invalid_below = match basis {
                Basis::OptIn => row.material_version,
                Basis::OptOut => 0,
            };
            // Sorting puts duplicates side by side, so each id is asked and answered once, and
            // hands the ids to the index lookups in key order. It runs here, off the async workers.
            subject_ids.sort_unstable_by_key(|id| id.uuid().as_u128());
            subject_ids.dedup();
            let sorted =
                model::eligibility(conn, &subject_ids, &purpose, unset_eligible, invalid_below)?;
            Ok((purpose, subject_ids.len(), sorted))
        })
        .await?;
    state
        .log_reads(vec![caller
            .entry(Action::ConsentEligibility, None, Outcome::Allowed)
            .with_count(count)])
        .await?;
    Ok(HttpResponse::Ok().json(Eligibility {
        purpose,
        eligible: sorted.eligible,
        not_eligible: sorted.not_eligible,
        unknown: sorted.unknown,
    }))
}
