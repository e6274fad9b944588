//! Notices to recipients (GDPR Art. 19): when a subject's data is corrected, erased or
//! restricted, or consent is withdrawn, every recipient that received the subject's data is told.
//! The notices are an outbox: [`queue`] writes them in the transaction of the change that causes
//! them (so a refused or rolled-back change queues nothing), and the delivery worker
//! ([`worker`]) sends them afterwards, at least once, to the recipient's webhook; a recipient
//! without an active webhook gets `manual` notices that staff deliver another way.

pub mod api;
pub mod compliance;
pub mod delivery;
pub mod lanes;
pub mod model;
pub mod outcome_api;
pub mod outcome_routes;
pub mod outcomes;
pub mod routes;
pub mod sign;
pub mod url_rule;
pub mod webhook_routes;
pub mod webhooks;
pub mod worker;

use crate::domain::disclosure::DataCategory;
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::domain::notice::NoticeType;
use crate::error::{ApiError, ApiResult};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
use std::cell::Cell;
use std::collections::BTreeSet;

/// One event about one subject; it becomes one notice per recipient concerned.
#[derive(Debug, Clone)]
pub struct Event {
    pub subject_id: SubjectId,
    pub kind: NoticeType,
    /// For `subject.rectified`: the changed categories. Only recipients that received one of them
    /// are told, and each is told the changed categories it received.
    pub categories: Option<BTreeSet<DataCategory>>,
    /// For `consent.withdrawn`: the purpose.
    pub purpose: Option<String>,
    /// The privacy request whose change causes the event: its notices carry it, and each one
    /// that takes an outcome opens a task on the request.
    pub privacy_request_id: Option<PrivacyRequestId>,
}

impl Event {
    /// `subject.rectified` for these changed categories; `None` when none changed (nothing to
    /// tell, as for a change of `preferred_language`).
    pub fn rectified(subject_id: SubjectId, categories: BTreeSet<DataCategory>) -> Option<Self> {
        (!categories.is_empty()).then_some(Self {
            subject_id,
            kind: NoticeType::Rectified,
            categories: Some(categories),
            purpose: None,
            privacy_request_id: None,
        })
    }

    /// `consent.withdrawn` for `purpose`.
    pub fn consent_withdrawn(subject_id: SubjectId, purpose: &str) -> Self {
        Self {
            subject_id,
            kind: NoticeType::ConsentWithdrawn,
            categories: None,
            purpose: Some(purpose.to_owned()),
            privacy_request_id: None,
        }
    }

    /// An event without categories or purpose (erased, restricted, restriction lifted).
    pub fn plain(subject_id: SubjectId, kind: NoticeType) -> Self {
        Self {
            subject_id,
            kind,
            categories: None,
            purpose: None,
            privacy_request_id: None,
        }
    }

    /// The event as caused by answering a privacy request.
    pub fn for_request(mut self, request: Option<PrivacyRequestId>) -> Self {
        self.privacy_request_id = request;
        self
    }
}

/// The category of a subject's field, for `subject.rectified`; `None` for fields no disclosure
/// carries (language, provenance).
pub fn category_of(field: &str) -> Option<DataCategory> {
    match field {
        "given_name" | "family_name" => Some(DataCategory::Identity),
        "email" | "phone" => Some(DataCategory::Contact),
        f if f.starts_with("address") => Some(DataCategory::Address),
        "personal_code" => Some(DataCategory::PersonalCode),
        _ => None,
    }
}

/// Queues the notices of one event in the caller's transaction.
pub fn queue(conn: &mut PgConnection, event: &Event) -> ApiResult<usize> {
    queue_all(conn, std::slice::from_ref(event))
}

/// Queues the notices of many events with one statement: for each event, one notice to every
/// recipient with a disclosure of the subject (a staff record or a partner read; suspended
/// recipients too), routed to its newest active webhook, or `manual` without one. Run in the
/// transaction of the change; the worker is woken once that transaction commits.
pub fn queue_all(conn: &mut PgConnection, events: &[Event]) -> ApiResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let mut subjects = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut categories: Vec<Option<String>> = Vec::with_capacity(events.len());
    let mut purposes = Vec::with_capacity(events.len());
    let mut requests = Vec::with_capacity(events.len());
    let mut due = Vec::with_capacity(events.len());
    let today = crate::domain::deadline::tallinn_date(chrono::Utc::now());
    for event in events {
        requests.push(event.privacy_request_id);
        due.push(outcomes::due_on(event.kind, today));
        subjects.push(event.subject_id);
        kinds.push(event.kind.as_str());
        categories.push(
            event
                .categories
                .as_ref()
                .map(|c| c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")),
        );
        purposes.push(event.purpose.clone());
    }
    // `seq` follows the SELECT's order, which keeps each pair's notices in the events' order.
    let queued = diesel::sql_query(
        "INSERT INTO notices (id, recipient_id, subject_id, type, categories, purpose, webhook_id, \
           status, next_attempt_at, created_at, privacy_request_id, outcome_due_on) \
         SELECT gen_random_uuid(), r.recipient_id, v.s, v.t, \
           CASE WHEN v.c IS NULL THEN NULL ELSE ARRAY( \
             SELECT x FROM unnest(string_to_array(v.c, ',')) WITH ORDINALITY AS u(x, o) \
             WHERE x = ANY (r.cats) ORDER BY o) END, \
           v.p, w.id, CASE WHEN w.id IS NULL THEN 'manual' ELSE 'pending' END, \
           CASE WHEN w.id IS NULL THEN NULL ELSE now() END, now(), v.r, v.d \
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::date[]) \
           WITH ORDINALITY AS v(s, t, c, p, r, d, o) \
         JOIN LATERAL ( \
           SELECT d.recipient_id, array_agg(DISTINCT cat) AS cats \
           FROM disclosures d CROSS JOIN LATERAL unnest(d.data_categories) AS cat \
           WHERE d.subject_id = v.s GROUP BY d.recipient_id \
         ) r ON v.c IS NULL OR r.cats && string_to_array(v.c, ',') \
         LEFT JOIN LATERAL ( \
           SELECT id FROM webhooks WHERE recipient_id = r.recipient_id AND status = 'active' \
           ORDER BY created_at DESC, id DESC LIMIT 1 \
         ) w ON true \
         ORDER BY v.o, r.recipient_id",
    )
    .bind::<Array<SqlUuid>, _>(subjects)
    .bind::<Array<Text>, _>(kinds)
    .bind::<Array<Nullable<Text>>, _>(categories)
    .bind::<Array<Nullable<Text>>, _>(purposes)
    .bind::<Array<Nullable<SqlUuid>>, _>(&requests)
    .bind::<Array<Nullable<diesel::sql_types::Date>>, _>(due)
    .execute(conn)?;
    if queued > 0 {
        QUEUED.with(|q| q.set(true));
    }
    let requests: Vec<PrivacyRequestId> = requests.into_iter().flatten().collect();
    if queued > 0 && !requests.is_empty() {
        outcomes::open_tasks(conn, &requests)?;
    }
    Ok(queued)
}

thread_local! {
    /// Whether this thread's open transaction queued notices: the worker is woken when it commits.
    static QUEUED: Cell<bool> = const { Cell::new(false) };
}

/// Called by whoever commits or rolls back a transaction that may have queued notices (the
/// request transaction and the group commit): wakes the worker after a commit that did.
pub fn transaction_ended(committed: bool) {
    if QUEUED.with(|q| q.replace(false)) && committed {
        wake();
    }
}

/// The worker's doorbell, shared by every instance of the service in this process.
pub static BELL: crate::background::Bell = crate::background::Bell::new();

/// Wakes the delivery workers of this process now.
pub fn wake() {
    BELL.ring();
}

/// Plugs the notices into the mechanisms at start-up: the worker is woken after a commit that
/// queued notices.
pub fn plug_in() {
    crate::db::after_commit::register(transaction_ended);
}

/// Every notice about the subject, oldest first, for the right-of-access export (Art. 19: the
/// person may ask who was told).
pub fn export_for(conn: &mut PgConnection, subject_id: SubjectId) -> ApiResult<serde_json::Value> {
    let rows = model::of_subject(conn, subject_id)?;
    let notices = outcomes::views(conn, rows)?;
    serde_json::to_value(notices).map_err(ApiError::internal)
}

/// The Prometheus gauges of notices, computed from the database at each scrape (so every
/// instance reports the same); nothing when it cannot be reached.
pub async fn gauges(state: &crate::state::AppState) -> Vec<crate::metrics::ScrapedGauge> {
    let Ok(counts) = state.db.run(model::counts).await else {
        return Vec::new();
    };
    vec![
        (
            "notices_pending",
            "Notices waiting for delivery",
            counts.pending,
        ),
        (
            "notices_dead",
            "Notices whose every delivery attempt failed",
            counts.dead,
        ),
        (
            "notices_manual",
            "Notices for recipients without a webhook, not yet acknowledged",
            counts.manual,
        ),
        (
            "notices_oldest_pending_age_seconds",
            "Age of the oldest notice waiting for delivery (0 when none)",
            counts.oldest_pending_age_s,
        ),
        (
            "recipient_outcomes_overdue",
            "Notices whose recipient's outcome is missing past outcome_due_on (Europe/Tallinn dates)",
            counts.outcomes_overdue,
        ),
    ]
}
