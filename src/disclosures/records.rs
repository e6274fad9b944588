//! Staff handlers of disclosure records: record a disclosure made outside the partner endpoint
//! (only when active authorizations cover it), and list a subject's disclosures.

use super::api::{Disclosure, NewDisclosure};
use super::model::{self, NewDisclosureRow};
use super::{etag_of, not_authorized};
use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::art14::model as art14;
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::disclosure::DataCategory;
use crate::domain::ids::DisclosureId;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, Answer};
use crate::pagination::Page;
use crate::paths;
use crate::responses::{
    Auth, Bearer, DisclosuresRead, JsonBody, LogUnavailable, NoSubject, Unavailable,
};
use crate::state::AppState;
use crate::subjects::path::SubjectPath;
use crate::subjects::standing;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use diesel::PgConnection;
use std::collections::{BTreeSet, HashMap};

/// Records a disclosure made by staff.
///
/// Accepted only when active authorizations of an active recipient for this subject together
/// cover every category disclosed; otherwise 403 `disclosure-not-authorized`, and the refused
/// attempt is logged. A subject whose processing is restricted gets 403 `subject-restricted`
/// (logged as refused too). Under `ART14_ENFORCEMENT=block`, a person owed Art. 14 information
/// and not yet told (status `due` or `overdue`) gets 409 `subject-not-informed`, logged as
/// refused, once the authorization has passed. With `subject_notice_withheld_until`, every
/// authorization covering it must be a legal obligation (else 400 naming the field): the person
/// is not shown it until that date.
#[utoipa::path(
    post, path = paths::DISCLOSURES, tag = "disclosures",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body = NewDisclosure,
    responses(
        (status = 201, description = "Recorded", body = Disclosure,
         headers(("ETag" = String, description = "A tag of this representation"))),
        (status = 400, description = "Invalid body (every bad field is named), no such recipient, or a withholding on a disclosure not covered by legal obligations only (`subject_notice_withheld_until`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `disclosures:write`, the subject's processing is restricted (`subject-restricted`), or no active authorization covers the disclosure (`disclosure-not-authorized`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ART14_ENFORCEMENT=block` and the person has not been told what Art. 14 requires (`subject-not-informed`)", body = crate::error::Problem, content_type = "application/problem+json"),
        Bearer, NoSubject, JsonBody, Unavailable,
    )
)]
pub async fn record_disclosure(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: SubjectPath,
    body: BodyAfterAuth<NewDisclosure>,
) -> actix_web::Result<HttpResponse> {
    let (subject, body, key) = path
        .authorized_write(
            &state,
            &caller,
            &req,
            (Scope::DisclosuresWrite, Action::DisclosureRecord),
            body,
        )
        .await?;
    let entry = caller.entry(Action::DisclosureRecord, Some(subject), Outcome::Allowed);
    let request = Request {
        path,
        body,
        entry: entry.clone(),
        block_uninformed: state.registers.art14_block,
    };
    match state
        .db
        .transaction(move |conn| record_keyed(conn, key.as_ref(), &entry, request))
        .await?
    {
        Ok(answer) => Ok(answer.respond()),
        Err(refusal) => Ok(state
            .deny(&caller, Action::DisclosureRecord, Some(subject), refusal)
            .await?),
    }
}

/// [`record`] under the request's idempotency key: a replay repeats the stored answer; a refusal
/// (the 403 to answer, logged as denied) is not stored.
fn record_keyed(
    conn: &mut PgConnection,
    key: Option<&idempotency::Key>,
    entry: &NewEntry,
    request: Request,
) -> ApiResult<Result<Answer, ApiError>> {
    if let Some(key) = key {
        if let Some(answer) = idempotency::claim(conn, key, Some(entry))? {
            super::withholding::keep_replayed(conn, &answer, &entry.request_id)?;
            return Ok(Ok(answer));
        }
    }
    let stored = match record(conn, request)? {
        Ok(stored) => stored,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let body = Disclosure::try_from(stored)?;
    let answer = Answer::json(StatusCode::CREATED, &body)?.etag(etag_of(&body));
    if let Some(key) = key {
        idempotency::store(conn, key, Some(entry), &answer)?;
    }
    Ok(Ok(answer))
}

/// A disclosure to record, with its access-log entry.
struct Request {
    path: SubjectPath,
    body: NewDisclosure,
    entry: NewEntry,
    /// `ART14_ENFORCEMENT=block`: a person not yet told (Art. 14) is not disclosed.
    block_uninformed: bool,
}

/// Records the disclosure and its entry when the subject is not restricted and the recipient's
/// active authorizations cover every category; otherwise changes nothing and answers the 403:
/// `subject-restricted`, or `disclosure-not-authorized` naming the categories not covered.
fn record(
    conn: &mut PgConnection,
    request: Request,
) -> ApiResult<Result<model::DisclosureRow, ApiError>> {
    let Request {
        path,
        body,
        entry,
        block_uninformed,
    } = request;
    // Locked first, so that an erasure or restriction cannot interleave (see `Lock`).
    if let Some(ground) = path.lock(conn)? {
        return Ok(Err(standing::restricted(ground, "it may not be disclosed")));
    }
    let subject = path.id();
    model::require_recipient(conn, body.recipient_id)?;
    let now = Utc::now();
    // Share-locks the recipient and the grants, so that a concurrent revocation waits for us.
    let grants = model::active_grants(conn, subject, body.recipient_id, now)?;
    let wanted: BTreeSet<DataCategory> = body.data_categories.iter().copied().collect();
    let missing: Vec<DataCategory> = wanted
        .difference(&model::covered(&grants)?)
        .copied()
        .collect();
    if !missing.is_empty() {
        return Ok(Err(uncovered(&missing)));
    }
    // Only once the authorization has passed (contract D): the block reveals nothing more than
    // the 403 would. A plain read of the status, so no lock is added to this path.
    if block_uninformed && art14::uninformed(conn, &[subject])?.contains(&subject) {
        return Ok(Err(art14::not_informed()));
    }
    let used = model::used_for(&grants, &wanted)?;
    let withheld = body.subject_notice_withheld_until;
    if withheld.is_some() {
        super::withholding::require_legal_obligation(&grants, &used)?;
    }
    let row = NewDisclosureRow {
        id: DisclosureId::new(),
        subject_id: subject,
        recipient_id: body.recipient_id,
        data_categories: DataCategory::names(&wanted),
        channel: body.channel.trim().to_owned(),
        note: body.note,
        authorization_ids: used,
        actor: entry.actor.clone(),
        at: now,
        request_id: entry.request_id.clone(),
        withheld_until: withheld,
        withheld_reason: body.withheld_reason.map(|r| r.trim().to_owned()),
    };
    // A disclosure made by staff is activity about the person (retention counts from it); a
    // withheld one only from its date on, which `withheld::last_activity` reads.
    if withheld.is_none() {
        crate::subjects::model::touch(conn, subject, now)?;
    }
    let stored = model::insert_disclosure(conn, &row)?;
    access_log::record(conn, &[entry])?;
    Ok(Ok(stored))
}

/// The 403 for a disclosure its authorizations do not cover, naming what is missing.
fn uncovered(missing: &[DataCategory]) -> ApiError {
    let names: Vec<&str> = missing.iter().map(|c| c.as_str()).collect();
    not_authorized(format!(
        "no active authorization of an active recipient covers: {}",
        names.join(", ")
    ))
}

/// Lists the disclosures of a subject's data.
///
/// Oldest first: those recorded by staff and those made through the partner endpoint
/// (channel `partner_api`).
#[utoipa::path(
    get, path = paths::DISCLOSURES, tag = "disclosures",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("limit" = Option<i64>, Query, description = "Page size, 1..1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of disclosures", body = Page<Disclosure>),
        (status = 400, description = "A bad id or query parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<DisclosuresRead>, NoSubject, LogUnavailable,
    )
)]
pub async fn list_disclosures(
    state: web::Data<AppState>,
    caller: Caller,
    path: SubjectPath,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    path.read_page(
        &state,
        &caller,
        (Scope::DisclosuresRead, Action::DisclosureRead),
        query.into_inner(),
        |params| params.cursor::<DisclosureId>(),
        |conn, subject, cursor, fetch| {
            model::disclosures_of(conn, subject, cursor, Some(fetch))?
                .into_iter()
                .map(Disclosure::try_from)
                .collect()
        },
        |d: &Disclosure| d.id.to_string(),
    )
    .await
}
