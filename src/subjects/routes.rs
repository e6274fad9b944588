//! Handlers of the subjects resource: parse, authorize, run the model with its access-log entry,
//! answer.

use super::api::{Rectification, Subject, SubjectFields};
use super::model::{self, Filter, SubjectRow};
use super::patch::SubjectPatch;
use super::path::SubjectPath;
use super::read::ReadSubject;
use super::rectify;
use super::standing::{self, Standing};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::email::Email;
use crate::domain::ids::{RectificationId, SubjectId};
use crate::domain::personal_code::PersonalCode;
use crate::error::{ApiError, ApiResult};
use crate::idempotency;
use crate::pagination::{Page, Params};
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, BadId, JsonBody, LogUnavailable, NoSubject, Precondition, SubjectsRead, SubjectsWrite,
    Unavailable,
};
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::{SubsecRound, Utc};
use std::collections::HashMap;

/// Answers one subject with its version as the `ETag`.
fn one(mut response: HttpResponseBuilder, row: &SubjectRow, subject: Subject) -> HttpResponse {
    response
        .insert_header((header::ETAG, precondition::etag(row.version)))
        .json(subject)
}

/// Creates a subject record.
///
/// Every field is validated and every bad one named (nested ones dotted, such as
/// `address.country`); nothing is stored on a 400. A `third_party` source needs
/// `source.lawful_collection_attestation`. A personal code another subject has is 409. The
/// record and its `subject.create` access-log entry commit together.
#[utoipa::path(post, path = paths::SUBJECTS, tag = "subjects", security(("bearer" = [])),
    request_body = SubjectFields,
    responses(
        (status = 201, description = "Created", body = Subject, headers(
            ("Location" = String, description = "The new subject's path"),
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 400, description = "Invalid fields, each named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another subject has this personal_code", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<SubjectsWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_subject(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<SubjectFields>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::SubjectsWrite, Action::SubjectCreate, None)
        .await?;
    let fields = body.read().await?;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let data = fields.to_data().map_err(ApiError::invalid)?;
    let now = Utc::now();
    let last_activity_at = fields
        .last_activity_at
        .map_or(now, |at| at.trunc_subsecs(6));
    let id = SubjectId::new();
    let entry = caller.entry(Action::SubjectCreate, Some(id), Outcome::Allowed);
    Ok(
        idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            let row = model::insert(conn, id, data, now, last_activity_at)?;
            follow_source(conn, &row)?;
            access_log::record(conn, &[entry])?;
            Ok(answer_one(conn, StatusCode::CREATED, &row)?.location(format!("/v1/subjects/{id}")))
        })
        .await?,
    )
}

/// One subject as a storable answer, with its Art. 14 status and its version as the `ETag`.
fn answer_one(
    conn: &mut diesel::PgConnection,
    status: StatusCode,
    row: &SubjectRow,
) -> ApiResult<idempotency::Answer> {
    Ok(
        idempotency::Answer::json(status, &Subject::with_art14(row, conn)?)?
            .etag(precondition::etag(row.version)),
    )
}

/// The subject's Art. 14 status row kept in step with its source (a new record, a rectification).
fn follow_source(conn: &mut diesel::PgConnection, row: &SubjectRow) -> ApiResult<()> {
    let data = &row.data;
    crate::art14::model::follow_source(
        conn,
        row.id,
        &data.source_type,
        data.source_collected_at,
        row.created_at,
    )
}

/// Reads one subject.
///
/// Answers only once its `subject.read` access-log entry is committed.
#[utoipa::path(get, path = paths::SUBJECT, tag = "subjects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    responses(
        (status = 200, description = "The subject", body = Subject, headers(
            ("ETag" = String, description = "The version, quoted"),
        )),
        BadId, Auth<SubjectsRead>, NoSubject, LogUnavailable,
    ))]
pub async fn get_subject(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
) -> ApiResult<HttpResponse> {
    let id = path.id();
    state
        .authorize(&caller, Scope::SubjectsRead, Action::SubjectRead, Some(id))
        .await?;
    read_one(&state, &caller, id).await
}

/// The audited read of one subject, its answer and `subject.read` entry: the read and its entry
/// go through group commit together (see subjects::read).
pub async fn read_one(state: &AppState, caller: &Caller, id: SubjectId) -> ApiResult<HttpResponse> {
    let entry = caller.entry(Action::SubjectRead, Some(id), Outcome::Allowed);
    let read = state.log_writer.submit::<ReadSubject>((id, entry)).await?;
    let standing = read
        .as_ref()
        .map(|(s, _)| (s.0.erased_at, s.0.restriction_ground.as_deref()));
    Standing::of(standing)?.require()?;
    let (sealed, art14) = read.ok_or_else(standing::unknown)?;
    let (row, _) = model::open_keyed(sealed)?;
    let mut subject = Subject::from(&row);
    subject.art14 = art14;
    Ok(one(HttpResponse::Ok(), &row, subject))
}

/// Lists subjects, optionally by exact personal code or e-mail address.
///
/// Pages are keyset-ordered by id. Each subject returned gets its own `subject.list`
/// access-log entry, committed before the answer.
#[utoipa::path(get, path = paths::SUBJECTS, tag = "subjects", security(("bearer" = [])),
    params(
        ("personal_code" = Option<String>, Query, description = "Only the subject with this personal code (it must be a valid one)"),
        ("email" = Option<String>, Query, description = "Only subjects with this e-mail address (it must be a valid one)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "A page of subjects", body = Page<Subject>),
        (status = 400, description = "Invalid parameters, each named", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<SubjectsRead>, LogUnavailable,
    ))]
pub async fn list_subjects(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::SubjectsRead, Action::SubjectList, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let filter = Filter {
        personal_code: params.with("personal_code", |raw| {
            PersonalCode::parse(raw).map(|code| code.as_str().to_owned())
        }),
        email: params.with("email", |raw| {
            Email::parse(raw).map(|email| email.as_str().to_owned())
        }),
    };
    let limit = params.limit();
    let after = params.cursor::<SubjectId>();
    params.finish()?;
    let (rows, mut art14) = state
        .db
        .run(move |conn| {
            let rows = model::list(conn, filter, after, limit + 1)?;
            let ids: Vec<SubjectId> = rows.iter().map(|row| row.id).collect();
            Ok((rows, crate::art14::model::statuses(conn, &ids)?))
        })
        .await?;
    let page = Page::from_rows(rows, limit, |row| row.id.to_string());
    let entries = page
        .items
        .iter()
        .map(|row| caller.entry(Action::SubjectList, Some(row.id), Outcome::Allowed))
        .collect();
    state.log_reads(entries).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: page
            .items
            .iter()
            .map(|row| Subject {
                art14: art14.remove(&row.id),
                ..Subject::from(row)
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Rectifies a subject: a JSON merge patch of its fields with the required `reason`.
///
/// `If-Match` must carry the subject's current `ETag` (missing: 428, stale: 412). The patched
/// record is validated like a new one, every bad field named. Each changed field becomes a
/// rectification (old and new value, reason, actor, time), committed with the record, its new
/// version and the `subject.rectify` access-log entry. A patch that changes nothing keeps the
/// version and records no rectification. Of two patches from the same version exactly one
/// succeeds; the other gets 412.
#[utoipa::path(patch, path = paths::SUBJECT, tag = "subjects", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("If-Match" = String, Header, description = "The subject's current ETag, such as \"3\""),
    ),
    request_body(content = SubjectPatch, content_type = "application/merge-patch+json",
        description = "A JSON merge patch (RFC 7396); sent as `application/json` it is taken the same way"),
    responses(
        (status = 200, description = "The rectified subject", body = Subject, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields, each named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another subject has this personal_code", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<SubjectsWrite>, NoSubject, JsonBody, Precondition, Unavailable,
    ))]
pub async fn rectify_subject(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<SubjectPatch>,
) -> actix_web::Result<HttpResponse> {
    let id = path.id();
    state
        .authorize(
            &caller,
            Scope::SubjectsWrite,
            Action::SubjectRectify,
            Some(id),
        )
        .await?;
    // A malformed request is a 400 whatever its preconditions say.
    let patch = body.read().await?;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let if_match = precondition::IfMatch::of(req.headers(), "subject")?;
    let privacy_request_id = patch.privacy_request_id;
    let (reason, patch) = patch.into_parts();
    let entry = caller.entry(Action::SubjectRectify, Some(id), Outcome::Allowed);
    let request = rectify::Request {
        subject_id: id,
        if_match,
        reason,
        patch,
        privacy_request_id,
        entry: entry.clone(),
    };
    Ok(
        idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            let row = rectify::apply(conn, request)?;
            follow_source(conn, &row)?;
            answer_one(conn, StatusCode::OK, &row)
        })
        .await?,
    )
}

/// Lists a subject's rectifications, oldest first.
///
/// Writes a `subject.read` access-log entry before answering.
#[utoipa::path(get, path = paths::SUBJECT_RECTIFICATIONS, tag = "subjects", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)"),
    ),
    responses(
        (status = 200, description = "A page of rectifications", body = Page<Rectification>),
        (status = 400, description = "Invalid id or parameters, each named", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<SubjectsRead>, NoSubject, LogUnavailable,
    ))]
pub async fn list_rectifications(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    path.read_page(
        &state,
        &caller,
        (Scope::SubjectsRead, Action::SubjectRead),
        query.into_inner(),
        |params| params.cursor::<RectificationId>(),
        |conn, id, after, fetch| {
            let rows = model::rectifications(conn, id, after, Some(fetch))?;
            Ok(rows.into_iter().map(Rectification::from).collect())
        },
        |r: &Rectification| r.id.to_string(),
    )
    .await
}
