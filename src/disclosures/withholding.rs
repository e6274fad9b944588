//! Withholding a staff disclosure record from the person (contract v3, A): the rule a
//! withholding must meet, and `PUT /v1/subjects/{id}/disclosures/{did}/withholding`, which
//! extends or ends one. What a withholding hides, and until when, is `withheld`'s.

use super::api::Disclosure;
use super::etag_of;
use super::fields::withholding;
use super::model::{self, AuthorizationRow};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::deadline::tallinn_date;
use crate::domain::disclosure::LegalBasis;
use crate::domain::ids::{AuthorizationId, DisclosureId, SubjectId};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::Validate;
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::responses::{Auth, DisclosuresWrite, JsonBody, Unavailable};
use crate::state::AppState;
use crate::subjects::model::Lock;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

/// 400 naming `subject_notice_withheld_until` unless every authorization the disclosure uses
/// (`used`, of `grants`) rests on a legal obligation: only then may the person be kept unaware.
pub(super) fn require_legal_obligation(
    grants: &[AuthorizationRow],
    used: &[AuthorizationId],
) -> ApiResult<()> {
    let obligation = LegalBasis::LegalObligation.as_str();
    let all = grants
        .iter()
        .filter(|g| used.contains(&g.id))
        .all(|g| g.legal_basis == obligation);
    if all {
        return Ok(());
    }
    Err(ApiError::invalid_field(
        "subject_notice_withheld_until",
        "is allowed only when every authorization covering the disclosure is a legal_obligation",
    ))
}

/// A change of a disclosure's withholding: a new date, or its end.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Withholding {
    /// The new date (after today, Europe/Tallinn) until which the person is not shown the
    /// disclosure; null ends the withholding now.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<NaiveDate>, example = "2027-12-31", required = true)]
    pub until: Option<Option<NaiveDate>>,
    /// Why (required with a date, at most 500 characters; with null, not allowed).
    #[schema(example = "Kriminaalmenetluse seadustik § 214", max_length = 500)]
    pub reason: Option<String>,
}

/// Keeps an explicit `null` (`Some(None)`, the end of a withholding) apart from a missing key.
fn given<'de, D>(deserializer: D) -> Result<Option<Option<NaiveDate>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<NaiveDate>::deserialize(deserializer).map(Some)
}

impl Validate for Withholding {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match self.until {
            None => errors.push(FieldError::new(
                "until",
                "is required: a date, or null to end the withholding",
            )),
            Some(until) => withholding(
                &mut errors,
                ("until", until),
                ("reason", self.reason.as_deref()),
            ),
        }
        errors
    }
}

/// 409 `withholding-not-allowed`: the disclosure is not withheld (never was, or no longer).
fn not_allowed() -> ApiError {
    ApiError::client(
        StatusCode::CONFLICT,
        "withholding-not-allowed",
        "the disclosure is not withheld from the person: only a withholding in force is \
         extended or ended",
    )
}

/// Extends or ends the withholding of a disclosure from the person.
///
/// Only a disclosure withheld now (recorded with `subject_notice_withheld_until`, its date not
/// yet come) has a withholding to change; any other is 409 `withholding-not-allowed`. `until`
/// a date after today sets the new date (with its `reason`); `until` null ends it: from then on
/// the person is shown the disclosure and all that was withheld with it, and it counts as
/// activity from its own moment. Logged as `disclosure.record`, an entry withheld with it.
#[utoipa::path(
    put, path = paths::DISCLOSURE_WITHHOLDING, tag = "disclosures",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The subject's id"),
        ("did" = Uuid, Path, description = "The disclosure's id"),
    ),
    request_body = Withholding,
    responses(
        (status = 200, description = "Changed", body = Disclosure,
         headers(("ETag" = String, description = "A tag of this representation"))),
        (status = 400, description = "Invalid body (every bad field is named), or an id is not a UUID", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subject, or no such disclosure of it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The disclosure is not withheld (`withholding-not-allowed`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The subject was erased (`subject-erased`)", body = crate::error::Problem, content_type = "application/problem+json"),
        Auth<DisclosuresWrite>, JsonBody, Unavailable,
    )
)]
pub async fn set_withholding(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(SubjectId, DisclosureId)>,
    body: BodyAfterAuth<Withholding>,
) -> actix_web::Result<HttpResponse> {
    let (subject, id) = path.into_inner();
    state
        .authorize(
            &caller,
            Scope::DisclosuresWrite,
            Action::DisclosureRecord,
            Some(subject),
        )
        .await?;
    let body = body.read().await?;
    let withholding = body
        .until
        .flatten()
        .map(|until| (until, body.reason.unwrap_or_default().trim().to_owned()));
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let entry = caller.entry(Action::DisclosureRecord, Some(subject), Outcome::Allowed);
    let answer = state
        .db
        .transaction(move |conn| {
            if let Some(key) = &key {
                if let Some(answer) = idempotency::claim(conn, key, Some(&entry))? {
                    keep_replayed(conn, &answer, &entry.request_id)?;
                    return Ok(answer);
                }
            }
            crate::subjects::path::lock(conn, subject, Lock::KeyShare)?;
            let row = model::lock_disclosure(conn, subject, id)?;
            let today = tallinn_date(Utc::now());
            if row.withheld_until.is_none_or(|until| until <= today) {
                return Err(not_allowed());
            }
            let at = row.at;
            let until = withholding.as_ref().map(|(d, r)| (*d, r.as_str()));
            let row = model::set_withholding(conn, row, until, &entry.request_id)?;
            if until.is_none() {
                // Ended: the disclosure is activity from its own moment, which recording it
                // withheld did not note.
                crate::subjects::model::touch(conn, subject, at)?;
            }
            access_log::record(conn, std::slice::from_ref(&entry))?;
            let body = Disclosure::try_from(row)?;
            let answer = Answer::json(StatusCode::OK, &body)?.etag(etag_of(&body));
            if let Some(key) = &key {
                idempotency::store(conn, key, Some(&entry), &answer)?;
            }
            Ok(answer)
        })
        .await?;
    Ok(answer.respond())
}

/// A repeated answer about a disclosure (its `disclosure.record` entry written under this
/// request's id): the id joins those withheld with the disclosure while it is withheld.
pub(super) fn keep_replayed(
    conn: &mut diesel::PgConnection,
    answer: &Answer,
    request_id: &str,
) -> ApiResult<()> {
    let id = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|body| body["id"].as_str()?.parse::<uuid::Uuid>().ok());
    match id {
        Some(id) => model::keep_request_id(conn, DisclosureId(id), request_id),
        None => Ok(()),
    }
}
