//! One delivery attempt, from claim to record. A claim leases due notices (`FOR UPDATE SKIP
//! LOCKED`, then a lease that outlives the longest attempt), counts the attempt and writes its
//! `notification.send` entry in one transaction, so two workers never send a notice at once and
//! every attempt is logged even if the process dies during it; an expired lease makes the notice
//! due again (at-least-once, with the same `webhook-id`). Only the oldest pending notice of each
//! (recipient, subject) is ever due, which keeps their order.

use super::webhooks::{self, WebhookRow};
use crate::access_log::{self, Action, NewEntry};
use crate::domain::ids::{NoticeId, RecipientId, SubjectId, WebhookId};
use crate::error::{ApiError, ApiResult};
use crate::http_client::{HttpClient, HttpError};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// The actor of the worker's access-log entries.
pub const ACTOR: &str = "system:notices";
/// How long a claimed notice is withheld from other workers: well beyond an attempt's 15 s.
pub const LEASE: Duration = Duration::from_secs(60);
/// The waits after each failed attempt (about 5 s, 30 s, 2 min, 10 min, 1 h, 6 h, 24 h); after
/// the last one fails the notice is `dead`.
pub const RETRY_AFTER_S: [u64; 7] = [5, 30, 120, 600, 3600, 21_600, 86_400];

/// A claimed notice, ready to send.
pub struct Job {
    pub id: NoticeId,
    pub recipient: RecipientId,
    lease: Uuid,
    attempts: i32,
    webhook: Option<WebhookId>,
    url: String,
    keys: Vec<Vec<u8>>,
    body: Vec<u8>,
    /// The webhook is no longer active: nothing is sent, the notice becomes `manual`.
    orphaned: bool,
}

/// What an attempt came to.
pub struct Attempt {
    id: NoticeId,
    pub recipient: RecipientId,
    lease: Uuid,
    attempts: i32,
    webhook: Option<WebhookId>,
    status: Option<u16>,
    error: Option<String>,
    orphaned: bool,
}

impl Attempt {
    /// Whether the receiver accepted the notice.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// Whether the receiver itself is in trouble (no answer in time, no connection, 5xx or 429),
    /// rather than this one notice refused.
    pub fn receiver_trouble(&self) -> bool {
        !self.orphaned
            && match self.status {
                None => self.error.as_deref() != Some(NO_WEBHOOK),
                Some(status) => status >= 500 || status == 429,
            }
    }
}

/// The error of an attempt that had no usable webhook to send to.
const NO_WEBHOOK: &str = "no usable webhook";

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    id: NoticeId,
    #[diesel(sql_type = SqlUuid)]
    recipient_id: RecipientId,
    #[diesel(sql_type = SqlUuid)]
    subject_id: SubjectId,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    categories: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<Text>)]
    purpose: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    webhook_id: Option<WebhookId>,
    #[diesel(sql_type = Int4)]
    attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

/// Leases up to `limit` due notices, at most `per_recipient` of each recipient's (fewer for
/// those `limited` names: `(recipients, rooms)`), counts their attempt and logs it; returns them
/// ready to send. Taking due notices recipient by recipient keeps one recipient's backlog from
/// filling a claim that another's fresh notice is waiting for.
pub fn claim(
    conn: &mut PgConnection,
    limit: usize,
    per_recipient: usize,
    limited: &(Vec<RecipientId>, Vec<i32>),
) -> ApiResult<Vec<Job>> {
    conn.transaction(|conn| {
        let lease = Uuid::new_v4();
        let claimed: Vec<Claimed> = diesel::sql_query(
            "WITH r AS ( \
               SELECT d.recipient_id, coalesce(v.room, $5) AS room FROM ( \
                 SELECT DISTINCT n.recipient_id FROM notices n \
                 WHERE n.status = 'pending' AND n.next_attempt_at <= now() \
                   AND (n.lease_until IS NULL OR n.lease_until < now())) d \
               LEFT JOIN unnest($4::uuid[], $6::int4[]) AS v(recipient_id, room) \
                 ON v.recipient_id = d.recipient_id \
               WHERE coalesce(v.room, $5) > 0), \
             due AS ( \
               SELECT c.id FROM r CROSS JOIN LATERAL ( \
                 SELECT n.id, n.next_attempt_at, n.seq FROM notices n \
                 WHERE n.recipient_id = r.recipient_id AND n.status = 'pending' \
                   AND n.next_attempt_at <= now() \
                   AND (n.lease_until IS NULL OR n.lease_until < now()) \
                   AND NOT EXISTS (SELECT 1 FROM notices o WHERE o.status = 'pending' \
                     AND o.recipient_id = n.recipient_id AND o.subject_id = n.subject_id \
                     AND o.seq < n.seq) \
                 ORDER BY n.next_attempt_at, n.seq LIMIT r.room FOR UPDATE SKIP LOCKED) c \
               ORDER BY c.next_attempt_at, c.seq LIMIT $1) \
             UPDATE notices n SET lease = $2, lease_until = now() + make_interval(secs => $3), \
               attempts = n.attempts + 1, last_attempt_at = now() \
             FROM due WHERE n.id = due.id \
             RETURNING n.id, n.recipient_id, n.subject_id, n.type AS kind, n.categories, \
               n.purpose, n.webhook_id, n.attempts, n.created_at",
        )
        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind::<SqlUuid, _>(lease)
        .bind::<diesel::sql_types::Double, _>(LEASE.as_secs_f64())
        .bind::<Array<SqlUuid>, _>(&limited.0)
        .bind::<BigInt, _>(i64::try_from(per_recipient).unwrap_or(i64::MAX))
        .bind::<Array<Int4>, _>(&limited.1)
        .load(conn)?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<WebhookId> = claimed.iter().filter_map(|c| c.webhook_id).collect();
        let hooks: HashMap<WebhookId, WebhookRow> = webhooks::by_ids(conn, &ids)?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        let now = Utc::now();
        let entries: Vec<NewEntry> = claimed.iter().map(entry).collect();
        access_log::record(conn, &entries)?;
        let mut jobs = Vec::with_capacity(claimed.len());
        for c in claimed {
            // Deleted or disabled since the notice was queued: staff must tell the recipient.
            let hook = c
                .webhook_id
                .and_then(|w| hooks.get(&w))
                .filter(|h| webhooks::active(h));
            // A secret that does not open fails the attempt rather than the batch.
            let keys = match hook {
                Some(h) => webhooks::signing_keys(conn, h, now).unwrap_or_default(),
                None => Vec::new(),
            };
            jobs.push(Job {
                id: c.id,
                recipient: c.recipient_id,
                lease,
                attempts: c.attempts,
                webhook: c.webhook_id,
                url: hook.map(|h| h.url.clone()).unwrap_or_default(),
                keys,
                body: body(&c)?,
                orphaned: hook.is_none(),
            });
        }
        Ok(jobs)
    })
}

fn entry(c: &Claimed) -> NewEntry {
    NewEntry {
        id: Uuid::now_v7(),
        at: Utc::now().trunc_subsecs(6),
        actor: ACTOR.to_owned(),
        recipient_id: Some(c.recipient_id.uuid()),
        action: Action::NotificationSend.as_str().to_owned(),
        subject_id: Some(c.subject_id.uuid()),
        outcome: crate::access_log::Outcome::Allowed.as_str().to_owned(),
        purpose: None,
        request_id: c.id.to_string(),
        count: None,
    }
}

/// The body every attempt sends: ids, the event and its time, never a personal value.
fn body(c: &Claimed) -> ApiResult<Vec<u8>> {
    let mut data = serde_json::Map::new();
    data.insert("subject_id".into(), c.subject_id.to_string().into());
    data.insert("recipient_id".into(), c.recipient_id.to_string().into());
    if let Some(categories) = &c.categories {
        data.insert("categories".into(), categories.clone().into());
    }
    if let Some(purpose) = &c.purpose {
        data.insert("purpose".into(), purpose.clone().into());
    }
    let message = serde_json::json!({
        "type": c.kind,
        "timestamp": c.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    });
    serde_json::to_vec(&message).map_err(ApiError::internal)
}

/// Sends one notice with the Standard Webhooks headers.
pub fn send(client: &HttpClient, job: Job) -> Attempt {
    let mut attempt = Attempt {
        id: job.id,
        recipient: job.recipient,
        lease: job.lease,
        attempts: job.attempts,
        webhook: job.webhook,
        status: None,
        error: None,
        orphaned: job.orphaned,
    };
    if job.orphaned {
        return attempt;
    }
    if job.keys.is_empty() || job.url.is_empty() {
        attempt.error = Some(NO_WEBHOOK.into());
        return attempt;
    }
    let id = job.id.to_string();
    let timestamp = Utc::now().timestamp();
    let signature = super::sign::header(&job.keys, &id, timestamp, &job.body);
    let timestamp = timestamp.to_string();
    let headers = [
        ("content-type", "application/json"),
        ("webhook-id", id.as_str()),
        ("webhook-timestamp", timestamp.as_str()),
        ("webhook-signature", signature.as_str()),
    ];
    match client.post(&job.url, &headers, &job.body) {
        Ok(reply) => attempt.status = Some(reply.status),
        Err(e) => {
            attempt.error = Some(
                match e {
                    HttpError::Timeout => "timeout".to_owned(),
                    HttpError::AddressRefused => "address refused".to_owned(),
                    other => other.to_string(),
                }
                .chars()
                .take(200)
                .collect(),
            );
        }
    }
    attempt
}

/// When a failed notice is tried again: the schedule's wait with ±10 % jitter, or `None` (dead)
/// after the last.
fn next_attempt(attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    let wait = *RETRY_AFTER_S.get(index)? as f64;
    let mut random = [0u8; 2];
    let spread = match getrandom::getrandom(&mut random) {
        Ok(()) => f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX) * 0.2 - 0.1,
        Err(_) => 0.0,
    };
    let millis = (wait * (1.0 + spread) * 1000.0) as i64;
    Some(now + chrono::Duration::milliseconds(millis))
}

/// Records attempts in one transaction: delivered, due again, or dead; a 410 disables the
/// webhook (its pending notices become `manual`). A notice whose lease is no longer this
/// attempt's (staff acknowledged it, its webhook went) is left as it is.
pub fn record(conn: &mut PgConnection, attempts: &[Attempt]) -> ApiResult<()> {
    let now = Utc::now();
    let n = attempts.len();
    let (mut ids, mut leases, mut states) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut codes, mut errors, mut next) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut gone = Vec::new();
    for a in attempts {
        let due = if a.delivered() {
            None
        } else {
            next_attempt(a.attempts, now)
        };
        let state = match (a.delivered(), due, a.status) {
            _ if a.orphaned => "manual",
            (true, _, _) => "delivered",
            (false, _, Some(410)) => "pending",
            (false, Some(_), _) => "pending",
            (false, None, _) => "dead",
        };
        if a.status == Some(410) {
            gone.extend(a.webhook);
        }
        if !a.orphaned {
            crate::metrics::record_notice_attempt(state == "delivered");
        }
        ids.push(a.id);
        leases.push(a.lease);
        states.push(state);
        codes.push(a.status.map(i32::from));
        errors.push(a.error.clone());
        next.push(if state == "pending" {
            due.or(Some(now))
        } else {
            None
        });
    }
    conn.transaction(|conn| {
        diesel::sql_query(
            "UPDATE notices n SET status = v.st, last_status = v.code, last_error = v.err, \
               next_attempt_at = v.next, lease = NULL, lease_until = NULL, \
               delivered_at = CASE WHEN v.st = 'delivered' THEN now() ELSE NULL END \
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int4[], $5::text[], \
               $6::timestamptz[]) AS v(id, lease, st, code, err, next) \
             WHERE n.id = v.id AND n.lease = v.lease AND n.status = 'pending'",
        )
        .bind::<Array<SqlUuid>, _>(&ids)
        .bind::<Array<SqlUuid>, _>(&leases)
        .bind::<Array<Text>, _>(&states)
        .bind::<Array<Nullable<Int4>>, _>(&codes)
        .bind::<Array<Nullable<Text>>, _>(&errors)
        .bind::<Array<Nullable<Timestamptz>>, _>(&next)
        .execute(conn)?;
        for webhook in &gone {
            webhooks::disable(conn, *webhook)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_waits_about_as_the_contract_says_then_gives_up() {
        let now = Utc::now();
        for (attempts, wait) in (1..).zip(RETRY_AFTER_S) {
            let next = next_attempt(attempts, now).unwrap();
            let waited = (next - now).num_milliseconds() as f64 / 1000.0;
            assert!(
                (wait as f64 * 0.89..=wait as f64 * 1.11).contains(&waited),
                "{attempts}: {waited}"
            );
        }
        assert!(next_attempt(8, now).is_none());
    }
}
