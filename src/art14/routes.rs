//! Handlers of Art. 14 information: record a notice given, record an exemption, list the persons
//! whose information is due.

use super::api::{Art14, Art14Due, InformationNotice, NewExemption, NewInformationNotice};
use super::model;
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::deadline::tallinn_date;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::Answer;
use crate::notices::compliance::read_day;
use crate::pagination::{Page, PageParams, Params};
use crate::paths;
use crate::responses::{
    Auth, JsonBody, LogUnavailable, NoSubject, SubjectsRead, SubjectsWrite, Unavailable,
};
use crate::state::AppState;
use crate::subjects::path::SubjectPath;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use std::collections::HashMap;

/// Records that the person was told what Art. 14 requires.
///
/// The person's `art14.status` becomes `informed`. Only for a subject whose data did not come
/// from them: otherwise 409 `art14-not-applicable`. Logged as `art14.update`.
#[utoipa::path(post, path = paths::INFORMATION_NOTICES, tag = "subjects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = NewInformationNotice,
    responses(
        (status = 201, description = "Recorded", body = InformationNotice),
        (status = 400, description = "Invalid fields (an `informed_at` in the future, an unknown `method`, an empty or hidden-text `notice_version`), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The data came from the person (`art14-not-applicable`)", body = Problem, content_type = "application/problem+json"),
        Auth<SubjectsWrite>, NoSubject, JsonBody, Unavailable,
    ))]
pub async fn record_information_notice(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<NewInformationNotice>,
) -> actix_web::Result<HttpResponse> {
    let step = (Scope::SubjectsWrite, Action::Art14Update);
    path.write_step(
        &state,
        &caller,
        &req,
        step,
        body,
        move |conn, subject, body: NewInformationNotice, entry| {
            // The subject's row first, then its status row: the order every change keeps.
            path.lock(conn)?;
            model::lock_applicable(conn, subject)?;
            let notice = model::record_notice(
                conn,
                subject,
                body.informed_at,
                body.method,
                &body.notice_version,
                &entry.actor,
            )?;
            access_log::record(conn, &[entry])?;
            Answer::json(StatusCode::CREATED, &notice)
        },
    )
    .await
}

/// Records why the person need not be told (Art. 14(5)).
///
/// The person's `art14.status` becomes `exempt` (unless already `informed`). A second exemption
/// is 409 `already-exempt`; a subject whose data came from them 409 `art14-not-applicable`.
/// Logged as `art14.update`. Answers the person's Art. 14 status.
#[utoipa::path(post, path = paths::ART14_EXEMPTION, tag = "subjects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = NewExemption,
    responses(
        (status = 200, description = "Recorded", body = Art14),
        (status = 400, description = "Invalid fields (an unknown `ground`, an empty or hidden-text `reference`), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An exemption is already recorded (`already-exempt`), or the data came from the person (`art14-not-applicable`)", body = Problem, content_type = "application/problem+json"),
        Auth<SubjectsWrite>, NoSubject, JsonBody, Unavailable,
    ))]
pub async fn record_art14_exemption(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<NewExemption>,
) -> actix_web::Result<HttpResponse> {
    let step = (Scope::SubjectsWrite, Action::Art14Update);
    path.write_step(
        &state,
        &caller,
        &req,
        step,
        body,
        move |conn, subject, body: NewExemption, entry| {
            path.lock(conn)?;
            if model::lock_applicable(conn, subject)? {
                return Err(ApiError::client(
                    StatusCode::CONFLICT,
                    "already-exempt",
                    "an Art. 14(5) exemption is already recorded for this subject",
                ));
            }
            model::record_exemption(conn, subject, body.ground, &body.reference)?;
            let status = model::status(conn, subject)?
                .ok_or_else(|| ApiError::internal("an exempted subject without a status"))?;
            access_log::record(conn, &[entry])?;
            Answer::json(StatusCode::OK, &status)
        },
    )
    .await
}

/// Lists the persons not yet told and not exempt whose `due_on` is before `overdue_on` (default
/// today, Europe/Tallinn): on the default, those overdue.
///
/// In subject id order; erased subjects are left out. Logged as one `art14.read` entry with the
/// number of persons returned.
#[utoipa::path(get, path = paths::INFORMATION_NOTICES_DUE, tag = "subjects", security(("bearer" = [])),
    params(
        ("overdue_on" = Option<chrono::NaiveDate>, Query, description = "A date (YYYY-MM-DD); default today"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of persons", body = Page<Art14Due>),
        (status = 400, description = "A bad query parameter, named", body = Problem, content_type = "application/problem+json"),
        Auth<SubjectsRead>, LogUnavailable,
    ))]
pub async fn list_information_notices_due(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::SubjectsRead, Action::Art14Read, None)
        .await?;
    let mut params = Params::new(query.into_inner());
    let day = read_day(&mut params, "overdue_on");
    let limit = params.limit();
    let after = params.cursor::<SubjectId>();
    params.finish()?;
    let day = day.unwrap_or_else(|| tallinn_date(Utc::now()));
    let rows = state
        .db
        .run(move |conn| model::due_before(conn, day, after, limit + 1))
        .await?;
    let page = Page::from_rows(rows, limit, |row| row.subject_id.to_string());
    let entry = caller
        .entry(Action::Art14Read, None, Outcome::Allowed)
        .with_count(page.items.len());
    state.log_reads(vec![entry]).await?;
    Ok(HttpResponse::Ok().json(page))
}
