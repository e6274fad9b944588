//! The person's own privacy requests (`/v1/me/privacy-requests`): filed through the portal,
//! verified by the login that files them, and listed with what they may do about a refusal.

use super::{resolve, Trilingual};
use crate::access_log::{self, Action, Outcome};
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::deadline::tallinn_date;
use crate::domain::ids::PrivacyRequestId;
use crate::domain::privacy_request::{RequestChannel, RequestKind, RequestOutcome, RequestStatus};
use crate::domain::text::check_controls;
use crate::error::{ApiResult, FieldError, Problem};
use crate::extract::Validate;
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, PageParams, Params};
use crate::paths;
use crate::requests::api::PrivacyRequest;
use crate::requests::login::{seal_details, LoginMethod, LoginVerification};
use crate::requests::model::{self, Filter, RequestRow};
use crate::requests::routes::{deadline, now, MONTHS};
use crate::responses::{JsonBody, LogUnavailable, Person, Unavailable};
use crate::rights::access_response::api::AccessComplaint;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// The longest `details`, in characters.
pub const MAX_DETAILS_CHARS: usize = 2000;

/// What the person asks for.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"kind": "erasure", "details": "Please erase my old e-mail address."}))]
pub struct MyNewRequest {
    pub kind: RequestKind,
    /// In the person's own words, at most 2000 characters (sealed under their key).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub details: Option<String>,
}

impl Validate for MyNewRequest {
    fn validate(&self) -> Vec<FieldError> {
        let Some(details) = &self.details else {
            return Vec::new();
        };
        let checked = check_controls(details, true).and_then(|()| {
            if details.trim().chars().count() > MAX_DETAILS_CHARS {
                Err(format!("must be at most {MAX_DETAILS_CHARS} characters"))
            } else {
                Ok(())
            }
        });
        checked
            .err()
            .map(|message| FieldError::new("details", message))
            .into_iter()
            .collect()
    }
}

/// One of the person's requests, as they see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyRequest {
    #[schema(value_type = uuid::Uuid)]
    pub id: PrivacyRequestId,
    pub kind: RequestKind,
    pub status: RequestStatus,
    /// The Europe/Tallinn date it was received.
    pub received_on: NaiveDate,
    /// The last day PlanPro has to answer.
    pub due_on: NaiveDate,
    pub extended: bool,
    /// Why PlanPro needs more time.
    #[schema(required = true)]
    pub extension_reason: Option<String>,
    #[schema(required = true)]
    pub outcome: Option<RequestOutcome>,
    /// Why it ended so (always given for a refusal).
    #[schema(required = true)]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub closed_at: Option<DateTime<Utc>>,
    /// For a refusal: where the person may turn (Art. 12(4)); null otherwise.
    #[schema(required = true)]
    pub remedies: Option<Remedies>,
}

/// What a person may do about a refused request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Remedies {
    /// Complain to the supervisory authority (Art. 77).
    pub complaint: AccessComplaint,
    /// Go to court (Art. 79), in Estonian, English and Russian.
    pub court: Trilingual,
}

fn remedies() -> Remedies {
    let authority = &crate::controller::current().authority;
    Remedies {
        complaint: AccessComplaint {
            authority: authority.name.clone(),
            address: authority.address.clone(),
            email: authority.email.clone(),
            url: authority.url.clone(),
        },
        court: Trilingual::new(
            "Kui leiate, et teie õigusi on rikutud, võite pöörduda ka kohtusse \
                 (maakohtusse), isikuandmete kaitse üldmääruse artikkel 79.",
            "If you believe your rights were infringed, you may also go to court \
                 (a county court), GDPR Article 79.",
            "Если вы считаете, что ваши права нарушены, вы можете также обратиться в суд \
                 (уездный суд), статья 79 Общего регламента по защите данных.",
        ),
    }
}

impl MyRequest {
    fn of(row: RequestRow) -> ApiResult<Self> {
        let outcome = row
            .outcome
            .as_deref()
            .map(RequestOutcome::from_db)
            .transpose()?;
        Ok(Self {
            id: row.id,
            kind: RequestKind::from_db(&row.kind)?,
            status: RequestStatus::from_db(&row.status)?,
            received_on: row.received_on,
            due_on: row.due_on,
            extended: row.extended,
            extension_reason: row.extension_reason,
            remedies: (outcome == Some(RequestOutcome::Refused)).then(remedies),
            outcome,
            reason: row.outcome_reason,
            closed_at: row.closed_at,
        })
    }
}

/// Files a privacy request of the person's own.
///
/// Recorded about the person, with `channel` `portal`, `received_at` now and its deadline as
/// staff-entered requests have. `verification` says how the login vouched for them: `method`
/// `eid` for an identity provider's token (the request counts as verified), `staff_key` for a
/// token minted with the staff key (it does not, under `REQUIRE_VERIFIED_REQUESTS`). A repeat of
/// an open request of the same kind is linked by `duplicate_of`. Logged as `request.create`
/// about the person, refusals too.
#[utoipa::path(post, path = paths::ME_PRIVACY_REQUESTS, tag = "me", security(("bearer" = [])),
    request_body = MyNewRequest,
    responses(
        (status = 201, description = "Recorded, with its deadline", body = PrivacyRequest, headers(
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 400, description = "Invalid fields (an unknown kind, `details` too long or with hidden characters), each named", body = Problem, content_type = "application/problem+json"),
        Person, JsonBody, Unavailable,
    ))]
pub async fn file_my_request(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<MyNewRequest>,
) -> actix_web::Result<HttpResponse> {
    let me = resolve(&state, caller, Action::RequestCreate).await?;
    let answer: actix_web::Result<HttpResponse> = async {
        let body = body.read().await?;
        let received_at = now();
        let received_on = tallinn_date(received_at);
        let due = deadline(received_on, MONTHS)?;
        let verification = LoginVerification::of(&me.login, received_at);
        let eid = verification.method == LoginMethod::Eid;
        let by = me.caller.actor.sub.clone();
        let row = RequestRow {
            id: PrivacyRequestId::new(),
            version: 1,
            kind: body.kind.as_str().to_owned(),
            subject_id: Some(me.id),
            channel: RequestChannel::Portal.as_str().to_owned(),
            received_at,
            received_on,
            reference: None,
            status: RequestStatus::Open.as_str().to_owned(),
            original_due_on: due,
            due_on: due,
            extended: false,
            extension_reason: None,
            subject_informed_at: None,
            outcome: None,
            outcome_reason: None,
            closed_at: None,
            created_by: by.clone(),
            created_at: received_at,
            updated_at: received_at,
            // Only an eID login verifies: a staff-key token proves nothing of the person.
            verified_at: eid.then_some(verification.verified_at),
            verification_method: eid.then(|| "eid".to_owned()),
            verified_by: eid.then_some(by),
            duplicate_of: None,
            override_reason: None,
            details_enc: None,
            login_verification: Some(verification.stored()?),
        };
        let details = body
            .details
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        let logged = me
            .caller
            .entry(Action::RequestCreate, Some(me.id), Outcome::Allowed);
        let key = idempotency::Key::of(&req, &me.caller.actor)?;
        let subject = me.id;
        Ok(
            idempotency::commit(&state.db, key, Some(logged.clone()), move |conn| {
                let mut row = row;
                crate::subjects::path::require(conn, subject)?;
                row.duplicate_of = model::open_original(conn, &row.kind, subject)?;
                if let Some(details) = &details {
                    let key = crate::requests::task_model::key_of(conn, subject)?;
                    row.details_enc = Some(seal_details(&key, &row.id, details));
                }
                model::insert(conn, &row)?;
                access_log::record(conn, &[logged])?;
                let etag = crate::precondition::etag(row.version);
                let answer = PrivacyRequest {
                    details,
                    ..PrivacyRequest::from_row(row)?
                };
                Ok(Answer::json(StatusCode::CREATED, &answer)?.etag(etag))
            })
            .await?,
        )
    }
    .await;
    me.settle(&state, Action::RequestCreate, answer).await
}

/// Lists the person's own privacy requests, oldest first.
///
/// Whoever filed them (the person here, or staff from a letter or an e-mail). A refused one
/// carries `remedies`: where to complain and that a court may be asked. Logged as
/// `request.read` about the person, refusals too.
#[utoipa::path(get, path = paths::ME_PRIVACY_REQUESTS, tag = "me", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of the person's requests", body = Page<MyRequest>),
        (status = 400, description = "A bad parameter (`limit`, `cursor`, or one the endpoint does not take), named", body = Problem, content_type = "application/problem+json"),
        Person, LogUnavailable,
    ))]
pub async fn list_my_requests(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    let me = resolve(&state, caller, Action::RequestRead).await?;
    let answer: actix_web::Result<HttpResponse> = async {
        let mut params = Params::new(query.into_inner());
        let limit = params.limit();
        let cursor = params.cursor::<PrivacyRequestId>();
        params.finish()?;
        let filter = Filter {
            subject_id: Some(me.id),
            ..Filter::default()
        };
        let rows = state
            .db
            .run(move |conn| model::list(conn, &filter, cursor, limit + 1))
            .await?;
        let items = rows
            .into_iter()
            .map(MyRequest::of)
            .collect::<ApiResult<Vec<_>>>()?;
        let page = Page::from_rows(items, limit, |r| r.id.to_string());
        let logged = me
            .caller
            .entry(Action::RequestRead, Some(me.id), Outcome::Allowed);
        state.log_reads(vec![logged]).await?;
        Ok(HttpResponse::Ok().json(page))
    }
    .await;
    me.settle(&state, Action::RequestRead, answer).await
}
