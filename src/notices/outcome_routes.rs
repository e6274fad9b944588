//! Handlers of recipients' outcomes: a partner reports what it did about its own notices and
//! lists them; staff record or replace an outcome with their reason. Each change writes its
//! `notification.outcome` entry in its transaction.

use super::api::Notice;
use super::model::{self, Filter, NoticeRow};
use super::outcome_api::{trimmed, OutcomeReport, StaffOutcome};
use super::outcome_filter::OutcomeFilter;
use super::outcomes::{self, Recorded};
use crate::access_log::{self, Action, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::disclosures::partner::recipient_of;
use crate::domain::ids::{NoticeId, RecipientId};
use crate::domain::outcome::NoticeOutcome;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, Params};
use crate::paths;
use crate::responses::{Auth, Bearer, JsonBody, LogUnavailable, NotificationsWrite, Unavailable};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The one answer for a notice that does not exist and one of another recipient.
fn unknown() -> ApiError {
    ApiError::not_found("notification")
}

/// 409 `outcome-recorded`: a recipient reports once.
fn recorded_already() -> ApiError {
    ApiError::client(
        StatusCode::CONFLICT,
        "outcome-recorded",
        "an outcome is already recorded for this notice; staff can replace it",
    )
}

/// Reports what the recipient did about one of its notices (Art. 17(2), 19).
///
/// For a `subject.erased`, `subject.rectified` or `subject.restricted` notice to the token's
/// recipient: `done`, `not_held` or `refused` (with a `reason`, which must name no personal
/// value), completed at `completed_at`. A notice of another recipient and one that does not
/// exist get the same 404. 409 `outcome-not-applicable` for other types, `outcome-recorded` for
/// a second report. The task the notice opened on its privacy request is done. Logged as
/// `notification.outcome`.
#[utoipa::path(post, path = paths::PARTNER_NOTIFICATION_OUTCOME, tag = "partner", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The notice's id (the `webhook-id` it was delivered with)")),
    request_body = OutcomeReport,
    responses(
        (status = 200, description = "Recorded", body = Notice),
        (status = 400, description = "Invalid fields (a refusal without a reason, a future `completed_at` or one before the notice), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner token, or no `recipient_id` claim", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notice to this recipient", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`outcome-not-applicable` or `outcome-recorded`", body = Problem, content_type = "application/problem+json"),
        Bearer, JsonBody, Unavailable,
    ))]
pub async fn report_outcome(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<NoticeId>,
    body: BodyAfterAuth<OutcomeReport>,
) -> actix_web::Result<HttpResponse> {
    let recipient = recipient_of(&state, &caller, Action::NotificationOutcome, None).await?;
    let body = body.read().await?;
    let report = Report {
        owner: Some(recipient),
        outcome: body.outcome,
        reason: body.reason,
        completed_at: body.completed_at,
        override_reason: None,
    };
    record(&state, caller, &req, id.into_inner(), report).await
}

/// Records or replaces the outcome of a notice, for staff.
///
/// The same as the partner's report, for any recipient's notice, with a required
/// `override_reason`; it replaces any outcome recorded before. `outcome_recorded_by` becomes
/// the caller's `sub`. 409 `outcome-not-applicable` for a notice of a type that takes none.
/// Logged as `notification.outcome`.
#[utoipa::path(post, path = paths::NOTIFICATION_OUTCOME, tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The notice's id")),
    request_body = StaffOutcome,
    responses(
        (status = 200, description = "Recorded", body = Notice),
        (status = 400, description = "Invalid fields (a refusal without a reason, a missing `override_reason`, a future `completed_at` or one before the notice), each named; or the id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`outcome-not-applicable`", body = Problem, content_type = "application/problem+json"),
        Auth<NotificationsWrite>, JsonBody, Unavailable,
    ))]
pub async fn record_outcome(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<NoticeId>,
    body: BodyAfterAuth<StaffOutcome>,
) -> actix_web::Result<HttpResponse> {
    state
        .authorize(
            &caller,
            Scope::NotificationsWrite,
            Action::NotificationOutcome,
            None,
        )
        .await?;
    let body = body.read().await?;
    let report = Report {
        owner: None,
        outcome: body.outcome,
        reason: body.reason,
        completed_at: body.completed_at,
        override_reason: Some(body.override_reason),
    };
    record(&state, caller, &req, id.into_inner(), report).await
}

/// An outcome as reported: by the notice's own recipient (`owner`), once; or by staff, with
/// their reason, replacing any.
struct Report {
    owner: Option<RecipientId>,
    outcome: NoticeOutcome,
    reason: Option<String>,
    completed_at: DateTime<Utc>,
    override_reason: Option<String>,
}

/// Records a report in one transaction with its `notification.outcome` entry: 404 for a notice
/// the reporting recipient does not own (as for none), 409 `outcome-not-applicable`, 400 for a
/// `completed_at` before the notice, 409 `outcome-recorded` for a recipient's second report.
async fn record(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: NoticeId,
    report: Report,
) -> actix_web::Result<HttpResponse> {
    let key = idempotency::Key::of(req, &caller.actor)?;
    Ok(idempotency::commit(&state.db, key, None, move |conn| {
        let row = model::lock(conn, id)?;
        if report.owner.is_some_and(|owner| owner != row.recipient_id) {
            return Err(unknown());
        }
        outcomes::check(&row, report.completed_at)?;
        if report.owner.is_some() && row.outcome.is_some() {
            return Err(recorded_already());
        }
        let recorded = Recorded {
            outcome: report.outcome,
            reason: trimmed(report.reason.as_deref()),
            completed_at: report.completed_at,
            by: match report.owner {
                Some(_) => "recipient",
                None => &caller.actor.sub,
            },
            override_reason: report.override_reason.as_deref().map(str::trim),
        };
        save(conn, &caller, &row, &recorded)
    })
    .await?)
}

/// Records the outcome and its `notification.outcome` entry; the answer is the notice.
fn save(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    row: &NoticeRow,
    recorded: &Recorded<'_>,
) -> ApiResult<Answer> {
    let row = outcomes::record(conn, row, recorded)?;
    let logged = caller.entry(
        Action::NotificationOutcome,
        Some(row.subject_id),
        Outcome::Allowed,
    );
    access_log::record(conn, &[logged])?;
    Answer::json(StatusCode::OK, &super::api::view(conn, row)?)
}

/// Lists the ids of the partner's own notices.
///
/// In the order they were queued; `outcome` filters as on the staff list (`pending`, `overdue`
/// or an outcome). Logged as one `notification.read` entry with the number of ids returned.
#[utoipa::path(get, path = paths::PARTNER_NOTIFICATIONS, tag = "partner", security(("bearer" = [])),
    operation_id = "list_partner_notifications",
    params(
        ("outcome" = Option<String>, Query, description = "`pending`, `overdue`, `done`, `not_held` or `refused`"),
        ("limit" = Option<i64>, Query, description = "Page size, 1..1000 (default 100)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of notice ids", body = Page<Uuid>),
        (status = 400, description = "A bad query parameter, named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner token, or no `recipient_id` claim", body = Problem, content_type = "application/problem+json"),
        Bearer, LogUnavailable,
    ))]
pub async fn list_partner_notices(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let recipient: RecipientId =
        recipient_of(&state, &caller, Action::NotificationRead, None).await?;
    let mut params = Params::new(query.into_inner());
    let today = crate::domain::deadline::tallinn_date(chrono::Utc::now());
    let filter = Filter {
        recipient_id: Some(recipient),
        outcome: params.with("outcome", |text| OutcomeFilter::parse(text, today)),
        ..Filter::default()
    };
    let limit = params.limit();
    let cursor = params.cursor::<i64>();
    params.finish()?;
    let rows = state
        .db
        .run(move |conn| model::list(conn, &filter, cursor, limit))
        .await?;
    let keyed: Vec<(i64, NoticeId)> = rows.into_iter().map(|r| (r.seq, r.id)).collect();
    let page = Page::from_rows(keyed, limit, |(seq, _)| seq.to_string());
    let page = Page {
        items: page.items.into_iter().map(|(_, id)| id).collect::<Vec<_>>(),
        next_cursor: page.next_cursor,
    };
    let logged = caller
        .entry(Action::NotificationRead, None, Outcome::Allowed)
        .with_count(page.items.len());
    state.log_reads(vec![logged]).await?;
    Ok(HttpResponse::Ok().json(page))
}
