//! Handlers of retention rules: one per kind of subject, how long after the last activity its
//! data is kept. Rules are about no one subject, so each call writes one entry with no subject:
//! `retention.update` for a creation or change (committed with it), `retention.read` for the
//! list.

use super::api::{NewRule, Rule, RuleChange, Rules};
use super::model::{self, RuleRow};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::RetentionRuleId;
use crate::domain::text::LongText;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer};
use crate::paths;
use crate::precondition;
use crate::responses::{
    Auth, JsonBody, LogUnavailable, Precondition, RetentionRead, RetentionWrite, Unavailable,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{SubsecRound, Utc};

fn answer(status: StatusCode, row: RuleRow) -> ApiResult<Answer> {
    let (id, etag) = (row.id, precondition::etag(row.version));
    let answer = Answer::json(status, &Rule::from_row(row)?)?.etag(etag);
    if status != StatusCode::CREATED {
        return Ok(answer);
    }
    Ok(answer.location(format!("/v1/retention/rules/{id}")))
}

fn trimmed(basis: &str) -> ApiResult<String> {
    LongText::parse(basis)
        .map(LongText::into_inner)
        .map_err(|m| ApiError::invalid_field("legal_basis", m))
}

/// Creates the retention rule of a kind of subject.
///
/// A subject of that kind is kept through the Europe/Tallinn date of its `last_activity_at`
/// plus `keep_months` calendar months (the same day number, or the month's last day when it has
/// none) and is due for erasure from the day after. A kind has one rule: a second is 409.
/// Logged as `retention.update`, with no subject.
#[utoipa::path(post, path = paths::RETENTION_RULES, tag = "retention", security(("bearer" = [])),
    request_body = NewRule,
    responses(
        (status = 201, description = "Created", body = Rule, headers(
            ("Location" = String, description = "The rule's path"),
            ("ETag" = String, description = "The version, quoted"),
        )),
        (status = 400, description = "Invalid fields (an unknown `subject_kind`, `keep_months` outside 1 to 1200), each named", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The kind has a rule already", body = Problem, content_type = "application/problem+json"),
        Auth<RetentionWrite>, JsonBody, Unavailable,
    ))]
pub async fn create_rule(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: BodyAfterAuth<NewRule>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(
            &caller,
            Scope::RetentionWrite,
            Action::RetentionUpdate,
            None,
        )
        .await?;
    let body = body.read().await?;
    let now = Utc::now().trunc_subsecs(6);
    let row = RuleRow {
        id: RetentionRuleId::new(),
        version: 1,
        subject_kind: body.subject_kind.as_str().to_owned(),
        keep_months: i32::try_from(body.keep_months).map_err(ApiError::internal)?,
        legal_basis: trimmed(&body.legal_basis)?,
        created_at: now,
        updated_at: now,
    };
    let logged = caller.entry(Action::RetentionUpdate, None, Outcome::Allowed);
    let key = idempotency::Key::of(&req, &caller.actor)?;
    Ok(
        idempotency::commit(&state.db, key, Some(logged.clone()), move |conn| {
            model::insert_rule(conn, &row)?;
            access_log::record(conn, &[logged])?;
            answer(StatusCode::CREATED, row)
        })
        .await?,
    )
}

/// Lists every retention rule.
///
/// Logged as one `retention.read` entry with no subject and the number of rules.
#[utoipa::path(get, path = paths::RETENTION_RULES, tag = "retention", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every rule, by kind", body = Rules),
        Auth<RetentionRead>, LogUnavailable,
    ))]
pub async fn list_rules(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    state
        .authorize(&caller, Scope::RetentionRead, Action::RetentionRead, None)
        .await?;
    let rows = state.db.run(model::all_rules).await?;
    let items = rows
        .into_iter()
        .map(Rule::from_row)
        .collect::<ApiResult<Vec<_>>>()?;
    let logged = caller
        .entry(Action::RetentionRead, None, Outcome::Allowed)
        .with_count(items.len());
    state.log_reads(vec![logged]).await?;
    Ok(HttpResponse::Ok().json(Rules { items }))
}

/// Changes a rule's `keep_months` or `legal_basis`.
///
/// `If-Match` with the rule's `ETag` (its version, such as `"3"`) is required (missing: 428,
/// stale: 412). A shorter `keep_months` makes subjects due sooner, so it also needs the scope
/// `subjects:erase` (403 otherwise, logged). Logged as `retention.update`, with no subject.
#[utoipa::path(patch, path = paths::RETENTION_RULE, tag = "retention", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The rule's id"),
        ("If-Match" = String, Header, description = "The rule's current ETag, such as \"3\""),
    ),
    request_body = RuleChange,
    responses(
        (status = 200, description = "The changed rule", body = Rule, headers(
            ("ETag" = String, description = "The new version, quoted"),
        )),
        (status = 400, description = "Invalid fields (`keep_months` outside 1 to 1200), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `retention:write`, or shortens `keep_months` without `subjects:erase`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
        crate::responses::Bearer, JsonBody, Precondition, Unavailable,
    ))]
pub async fn change_rule(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<RetentionRuleId>,
    body: BodyAfterAuth<RuleChange>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(
            &caller,
            Scope::RetentionWrite,
            Action::RetentionUpdate,
            None,
        )
        .await?;
    let body = body.read().await?;
    let if_match = precondition::IfMatch::of(req.headers(), "retention rule")?;
    let key = idempotency::Key::of(&req, &caller.actor)?;
    let id = id.into_inner();
    let may_shorten = caller.actor.has(Scope::SubjectsErase);
    let logged = caller.entry(Action::RetentionUpdate, None, Outcome::Allowed);
    let legal_basis = body.legal_basis.as_deref().map(trimmed).transpose()?;
    let keep_months = body
        .keep_months
        .map(i32::try_from)
        .transpose()
        .map_err(ApiError::internal)?;
    let result = state
        .db
        .transaction(move |conn| {
            idempotency::run(conn, key.as_ref(), Some(&logged.clone()), |conn| {
                let mut row = model::lock_rule(conn, id)?;
                if_match.check(row.version)?;
                if let Some(months) = keep_months {
                    if months < row.keep_months && !may_shorten {
                        return Err(ApiError::missing_scope(Scope::SubjectsErase.as_str()));
                    }
                    row.keep_months = months;
                }
                if let Some(basis) = legal_basis {
                    row.legal_basis = basis;
                }
                if_match.bump(&mut row.version)?;
                row.updated_at = Utc::now().trunc_subsecs(6);
                model::update_rule(conn, &row)?;
                access_log::record(conn, &[logged])?;
                answer(StatusCode::OK, row)
            })
        })
        .await;
    match result {
        Ok(answer) => Ok(answer.respond()),
        Err(refused @ ApiError::MissingScope(_)) => Ok(state
            .deny(&caller, Action::RetentionUpdate, None, refused)
            .await?),
        Err(e) => Err(e.into()),
    }
}
