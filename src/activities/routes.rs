//! Handlers of processing activities: record, read, list, change (never delete: retire), and the
//! versions of one. Creates and changes write a `ropa.update` entry in their transaction; reads
//! write none (an activity holds no personal data).

use super::api::{
    Activity, ActivityBody, ActivityMeta, ActivityStatus, ActivityVersion, Controller,
};
use super::model::{self, ActivityRow, VersionRow};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::{Body, BodyAfterAuth};
use crate::caller::Caller;
use crate::db::schema::{purposes, retention_rules};
use crate::domain::ids::ActivityId;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, PageParams, Params};
use crate::paths;
use crate::precondition;
use crate::responses::{Auth, BadId, JsonBody, Precondition, RopaRead, RopaWrite, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{SubsecRound, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

/// The answer for a stored activity.
pub fn activity(row: &ActivityRow) -> ApiResult<Activity> {
    Ok(Activity {
        meta: ActivityMeta {
            id: row.id,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        },
        body: serde_json::from_value(row.doc.clone()).map_err(ApiError::internal)?,
    })
}

fn answer(status: StatusCode, row: &ActivityRow) -> ApiResult<Answer> {
    let answer = Answer::json(status, &activity(row)?)?.etag(precondition::etag(row.version));
    if status == StatusCode::CREATED {
        return Ok(answer.location(format!("/v1/processing-activities/{}", row.id)));
    }
    Ok(answer)
}

/// The body completed with its defaults (the configured controller, `active`), as stored.
fn completed(mut body: ActivityBody) -> ApiResult<serde_json::Value> {
    let configured = crate::controller::current();
    body.controller.get_or_insert_with(|| Controller {
        name: configured.name.clone(),
        registry_code: configured
            .registry_code
            .as_ref()
            .map(|c| c.as_str().to_owned()),
    });
    body.status.get_or_insert(ActivityStatus::Active);
    serde_json::to_value(body).map_err(ApiError::internal)
}

/// 400 naming every purpose and retention rule the body names that does not exist.
fn check_references(conn: &mut PgConnection, body: &ActivityBody) -> ApiResult<()> {
    let known: Vec<String> = purposes::table
        .filter(purposes::id.eq_any(&body.purposes))
        .select(purposes::id)
        .load(conn)?;
    let mut errors: Vec<FieldError> = body
        .purposes
        .iter()
        .enumerate()
        .filter(|(_, p)| !known.contains(p))
        .map(|(i, _)| FieldError::new(format!("purposes[{i}]"), "names no purpose"))
        .collect();
    if let Some(rule) = body.retention.as_ref().and_then(|r| r.rule_id) {
        let found: i64 = retention_rules::table
            .filter(retention_rules::id.eq(rule))
            .count()
            .get_result(conn)?;
        if found == 0 {
            errors.push(FieldError::new(
                "retention.rule_id",
                "names no retention rule",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// Records a processing activity (Art. 30(1)).
///
/// `controller` defaults to the configured one (`CONTROLLER_NAME`, `CONTROLLER_REGISTRY_CODE`),
/// `status` to `active`. Purposes and a retention rule must exist (400 naming each unknown one).
/// Texts hold at most 200 characters, lists at most 50 items. Logged as `ropa.update`.
#[utoipa::path(post, path = paths::PROCESSING_ACTIVITIES, tag = "records-of-processing", security(("bearer" = [])),
    request_body = ActivityBody,
    responses(
        (status = 201, description = "Recorded", body = Activity, headers(
            ("Location" = String, description = "The activity's path"),
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 400, description = "Invalid fields (an unknown purpose or retention rule, an EEA transfer, an empty list), each named", body = Problem, content_type = "application/problem+json"),
        Auth<RopaWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_activity(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<ActivityBody>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::RopaWrite, Action::RopaUpdate, None)
        .await?;
    let body = body.read().await?;
    let now = Utc::now().trunc_subsecs(6);
    let status = body.status.unwrap_or(ActivityStatus::Active);
    let row = ActivityRow {
        id: ActivityId::new(),
        version: 1,
        status: status.as_str().to_owned(),
        doc: completed(body.clone())?,
        created_by: caller.actor.sub.clone(),
        created_at: now,
        updated_at: now,
    };
    let logged = caller.entry(Action::RopaUpdate, None, Outcome::Allowed);
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&logged.clone()), |conn| {
                check_references(conn, &body)?;
                model::insert(conn, &row)?;
                access_log::record(conn, &[logged])?;
                answer(StatusCode::CREATED, &row)
            })
        })
        .await?;
    super::binding::forget_cached();
    Ok(answer.respond())
}

/// Reads one processing activity (writes no access-log entry: it holds no personal data).
#[utoipa::path(get, path = paths::PROCESSING_ACTIVITY, tag = "records-of-processing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The activity's id")),
    responses(
        (status = 200, description = "The activity", body = Activity, headers(
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 404, description = "No such activity", body = Problem, content_type = "application/problem+json"),
        Auth<RopaRead>, BadId, Unavailable,
    ))]
pub async fn get_activity(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ActivityId>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RopaRead)?;
    let id = id.into_inner();
    let row = state.db.run(move |conn| model::find(conn, id)).await?;
    Ok(answer(StatusCode::OK, &row)?.respond())
}

/// Lists processing activities, by id, optionally only those of one `status`.
#[utoipa::path(get, path = paths::PROCESSING_ACTIVITIES, tag = "records-of-processing", security(("bearer" = [])),
    params(
        ("status" = Option<ActivityStatus>, Query, description = "Only activities with this status"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of activities", body = Page<Activity>),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = "application/problem+json"),
        Auth<RopaRead>, Unavailable,
    ))]
pub async fn list_activities(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RopaRead)?;
    let mut params = Params::new(query.into_inner());
    let status = params.with("status", |s| {
        ActivityStatus::parse(s).map(ActivityStatus::as_str)
    });
    let limit = params.limit();
    let cursor = params.cursor::<ActivityId>();
    params.finish()?;
    let rows = state
        .db
        .run(move |conn| model::list(conn, status, cursor, limit + 1))
        .await?;
    let items = rows.iter().map(activity).collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |a| a.meta.id.to_string())))
}

/// Changes a processing activity: an RFC 7396 merge patch of its fields, `If-Match` required.
///
/// There is no delete: `{"status": "retired"}` retires it (it stays in the register as of the
/// dates it was active). Every change is a new version. Logged as `ropa.update`.
#[utoipa::path(patch, path = paths::PROCESSING_ACTIVITY, tag = "records-of-processing", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The activity's id"),
        ("If-Match" = String, Header, description = "The `ETag` last read"),
    ),
    request_body(content = serde_json::Value, description = "A merge patch of the activity's fields"),
    responses(
        (status = 200, description = "Changed", body = Activity, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields, each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such activity", body = Problem, content_type = "application/problem+json"),
        Auth<RopaWrite>, JsonBody, Precondition, Unavailable,
    ))]
pub async fn change_activity(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<ActivityId>,
    body: Body,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(&caller, Scope::RopaWrite, Action::RopaUpdate, None)
        .await?;
    let patch = body.read_with(crate::extract::strict_value).await?;
    if !patch.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object").into());
    }
    // Judged after the body's 400, inside the transaction.
    let if_match = precondition::IfMatch::of(req.headers(), "processing activity");
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let id = id.into_inner();
    let logged = caller.entry(Action::RopaUpdate, None, Outcome::Allowed);
    let actor = caller.actor.sub.clone();
    let answer = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&logged.clone()), |conn| {
                let mut row = model::lock(conn, id)?;
                let mut doc = row.doc.clone();
                crate::subjects::patch::merge_patch(&mut doc, patch);
                let bytes = serde_json::to_vec(&doc).map_err(ApiError::internal)?;
                let body = crate::extract::parse_object::<ActivityBody>(&bytes)?;
                check_references(conn, &body)?;
                if_match?.bump(&mut row.version)?;
                let status = body.status.unwrap_or(ActivityStatus::Active);
                row.doc = completed(body)?;
                row.status = status.as_str().to_owned();
                row.updated_at = Utc::now().trunc_subsecs(6);
                model::update(conn, &row, &actor)?;
                access_log::record(conn, &[logged])?;
                answer(StatusCode::OK, &row)
            })
        })
        .await?;
    super::binding::forget_cached();
    Ok(answer.respond())
}

/// Lists the versions of a processing activity, oldest first: each as it stood from
/// `changed_at` until the next.
#[utoipa::path(get, path = paths::PROCESSING_ACTIVITY_VERSIONS, tag = "records-of-processing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The activity's id"), PageParams),
    responses(
        (status = 200, description = "A page of versions", body = Page<ActivityVersion>),
        (status = 400, description = "A bad parameter, named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such activity", body = Problem, content_type = "application/problem+json"),
        Auth<RopaRead>, Unavailable,
    ))]
pub async fn list_activity_versions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ActivityId>,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RopaRead)?;
    let mut params = Params::new(query.into_inner());
    let limit = params.limit();
    let cursor = params.cursor::<i32>();
    params.finish()?;
    let id = id.into_inner();
    let (current, rows) = state
        .db
        .run(move |conn| {
            let current = model::find(conn, id)?;
            Ok((current, model::versions_of(conn, id, cursor, limit + 1)?))
        })
        .await?;
    let items = rows
        .iter()
        .map(|v| version(&current, v))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |v| v.version.to_string())))
}

/// One version as the API shows it.
pub fn version(current: &ActivityRow, v: &VersionRow) -> ApiResult<ActivityVersion> {
    let row = ActivityRow {
        id: v.activity_id,
        version: v.version,
        status: v.status.clone(),
        doc: v.doc.clone(),
        created_by: current.created_by.clone(),
        created_at: current.created_at,
        updated_at: v.changed_at,
    };
    Ok(ActivityVersion {
        version: v.version,
        activity: activity(&row)?,
        changed_at: v.changed_at,
        changed_by: v.changed_by.clone(),
    })
}
