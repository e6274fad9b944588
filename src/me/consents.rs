//! The person's own flags (`/v1/me/consents`): read with the text of each purpose's version in
//! force, and changed through the staff endpoint's write path (`consents::decide`), recorded
//! with method `portal` and their login as the evidence.

use super::resolve;
use crate::access_log::{Action, Outcome};
use crate::auth::subject::SubjectLogin;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::consents::api::{Consent, ConsentChange};
use crate::consents::decide::{record, Decision};
use crate::consents::versions::VersionText;
use crate::domain::consent::{self, ConsentStatus, Method};
use crate::domain::consent_state::ConsentState;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Validate;
use crate::paths;
use crate::responses::{JsonBody, LogUnavailable, Person, Unavailable};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// One of the person's flags, with the text they are asked to agree to: the flag as
/// `GET /v1/subjects/{id}/consents` shows it, with the purpose's version in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyConsent {
    /// The purpose's id.
    pub purpose: String,
    /// The last decision recorded.
    pub status: ConsentStatus,
    /// Whether the person may be contacted for this purpose now.
    pub eligible: bool,
    /// The lifecycle state, computed when read.
    pub state: ConsentState,
    /// The purpose version of the last grant.
    #[schema(required = true)]
    pub purpose_version: Option<i32>,
    /// When the current grant took effect.
    #[schema(required = true)]
    pub given_at: Option<DateTime<Utc>>,
    /// When the current grant expires; null: until withdrawn.
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    /// While a double opt-in waits: when its confirmation link lapses.
    #[schema(required = true)]
    pub confirmation_expires_at: Option<DateTime<Utc>>,
    /// The guardian who consented for a child.
    #[schema(required = true, value_type = Option<uuid::Uuid>)]
    pub guardian_subject_id: Option<SubjectId>,
    /// When the flag was last set; null while `unset`.
    #[schema(required = true)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The purpose's version in force: the one to name when granting.
    pub current_version: i32,
    /// That version's text, in Estonian, English and (when there is one) Russian.
    pub purpose_text: VersionText,
}

impl MyConsent {
    fn of(flag: Consent, current_version: i32, purpose_text: VersionText) -> Self {
        Self {
            purpose: flag.purpose,
            status: flag.status,
            eligible: flag.eligible,
            state: flag.state,
            purpose_version: flag.purpose_version,
            given_at: flag.given_at,
            expires_at: flag.expires_at,
            confirmation_expires_at: flag.confirmation_expires_at,
            guardian_subject_id: flag.guardian_subject_id,
            updated_at: flag.updated_at,
            current_version,
            purpose_text,
        }
    }
}

/// The person's flag of every purpose.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyConsents {
    pub items: Vec<MyConsent>,
}

/// The person's decision about one purpose.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "granted", "purpose_version": 2}))]
pub struct MyConsentChange {
    pub status: consent::Decision,
    /// The version whose text the person was shown: required to grant; not the current one:
    /// 409 `purpose-version-stale`.
    #[schema(minimum = 1)]
    pub purpose_version: Option<i32>,
}

impl Validate for MyConsentChange {
    fn validate(&self) -> Vec<FieldError> {
        match (self.status, self.purpose_version) {
            (consent::Decision::Granted, None) => vec![FieldError::new(
                "purpose_version",
                "is required to grant: the version whose text was shown",
            )],
            (_, Some(v)) if v < 1 => vec![FieldError::new(
                "purpose_version",
                "must be a version number, 1 or more",
            )],
            _ => Vec::new(),
        }
    }
}

/// The evidence of a decision made with this login: the RFC 8785 JSON of `{"acr", "amr",
/// "issuer", "jti"}` (`issuer` `staff-key` for a token minted with the staff key).
fn evidence_of(login: &SubjectLogin) -> ApiResult<String> {
    let evidence = serde_json::json!({
        "issuer": login.issuer,
        "acr": login.acr.map(|a| a.as_str()),
        "amr": login.amr,
        "jti": login.jti,
    });
    serde_json_canonicalizer::to_string(&evidence).map_err(ApiError::internal)
}

/// Reads the person's own consent and opt-out flags.
///
/// One per purpose, `unset` included, as `GET /v1/subjects/{id}/consents` shows them, each with
/// the purpose's `current_version` and that version's `purpose_text`. Logged as `consent.read`
/// about the person.
#[utoipa::path(get, path = paths::ME_CONSENTS, tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The person's flag of every purpose", body = MyConsents),
        Person, LogUnavailable,
    ))]
pub async fn list_my_consents(
    state: web::Data<AppState>,
    caller: Caller,
) -> actix_web::Result<HttpResponse> {
    let me = resolve(&state, caller, Action::ConsentRead).await?;
    let id = me.id;
    let items = state
        .db
        .run(move |conn| {
            let texts: HashMap<String, (i32, VersionText)> =
                crate::consents::model::list_purposes(conn)?
                    .into_iter()
                    .map(|(purpose, version)| {
                        let text = VersionText {
                            et: Some(version.text_et),
                            en: Some(version.text_en),
                            ru: version.text_ru,
                        };
                        (purpose.id, (purpose.current_version, text))
                    })
                    .collect();
            let flags = crate::consents::consents_of(conn, id)?;
            // Both read the purposes: one added in between has no flag here yet.
            Ok(flags
                .into_iter()
                .filter_map(|flag| {
                    let (current_version, purpose_text) = texts.get(&flag.purpose)?.clone();
                    Some(MyConsent::of(flag, current_version, purpose_text))
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let entry = me
        .caller
        .entry(Action::ConsentRead, Some(id), Outcome::Allowed);
    state.log_reads(vec![entry]).await?;
    Ok(HttpResponse::Ok().json(MyConsents { items }))
}

/// Records the person's own decision about one purpose.
///
/// A grant names the `purpose_version` whose text was shown (required; not the current one: 409
/// `purpose-version-stale`). Recorded like a staff change, with method `portal` and the login as
/// `evidence` (`{"acr", "amr", "issuer", "jti"}`; `issuer` `staff-key` for a token minted with
/// the staff key). A withdrawal queues `consent.withdrawn` notices to the recipients. A grant
/// made with an identity provider's token is never `pending_confirmation` (the eID login
/// confirms it); one made with a staff-key token follows the purpose's confirmation rule. Under
/// the version's `minimum_age`: 422 `guardian-consent-required`. Logged as `consent.change`
/// about the person, refusals too.
#[utoipa::path(put, path = paths::ME_CONSENT, tag = "me", security(("bearer" = [])),
    params(("purpose" = String, Path, description = "The purpose's id")),
    request_body = MyConsentChange,
    responses(
        (status = 200, description = "The flag's new state", body = Consent,
            headers(("ETag" = String, description = "The id of the event that set this state"))),
        (status = 400, description = "Invalid body (a grant without `purpose_version`); `errors` names every bad field", body = Problem, content_type = "application/problem+json"),
        Person,
        (status = 404, description = "No live record has the person's code (`no-record`), or no such purpose (`not-found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`purpose-version-stale`: `purpose_version` is not the current version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`guardian-consent-required`: the person is under the version's `minimum_age`", body = Problem, content_type = "application/problem+json"),
        JsonBody, Unavailable,
    ))]
pub async fn set_my_consent(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    purpose: web::Path<String>,
    body: BodyAfterAuth<MyConsentChange>,
) -> actix_web::Result<HttpResponse> {
    let me = resolve(&state, caller, Action::ConsentChange).await?;
    let answer: actix_web::Result<HttpResponse> = async {
        let body = body.read().await?;
        let change = ConsentChange {
            status: body.status,
            method: Method::Portal,
            evidence: Some(evidence_of(&me.login)?),
            purpose_version: body.purpose_version,
            guardian: None,
            age_confirmed: None,
            age_evidence: None,
        };
        let decision = Decision {
            subject_id: me.id,
            purpose: purpose.into_inner(),
            change,
            login_confirms: me.login.is_eid(),
        };
        record(&state, &me.caller, &req, decision).await
    }
    .await;
    me.settle(&state, Action::ConsentChange, answer).await
}
