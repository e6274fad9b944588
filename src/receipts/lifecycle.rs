//! What a receipt states of the consent's lifecycle (ISO/IEC TS 27560, Kantara CR v1.1): the
//! state the event left, the purpose version and the SHA-256 of its notice, when the grant
//! terminates, the subject kind's retention rule and the guardian. Read for a whole batch of
//! events in one query, once the events and their flags are written.

use crate::domain::consent_state::notice_sha256;
use crate::domain::ids::{EventId, SubjectId};
use crate::error::ApiResult;
use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The lifecycle facts of one event.
#[derive(Debug, QueryableByName)]
pub struct Lifecycle {
    #[diesel(sql_type = SqlUuid)]
    id: EventId,
    #[diesel(sql_type = Nullable<Text>)]
    state: Option<String>,
    #[diesel(sql_type = Int4)]
    purpose_version: i32,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    guardian_subject_id: Option<SubjectId>,
    #[diesel(sql_type = Text)]
    text_et: String,
    #[diesel(sql_type = Text)]
    text_en: String,
    #[diesel(sql_type = Nullable<Text>)]
    text_ru: Option<String>,
    #[diesel(sql_type = Text)]
    text_sha256: String,
    /// The flag's expiry, when this event is the flag's newest.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Int4>)]
    keep_months: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    retention_basis: Option<String>,
}

/// The lifecycle of each of these (already written) events.
pub fn of(conn: &mut PgConnection, events: &[EventId]) -> ApiResult<HashMap<EventId, Lifecycle>> {
    let rows: Vec<Lifecycle> = diesel::sql_query(
        "SELECT e.id, e.state, e.purpose_version, e.guardian_subject_id, v.text_et, v.text_en, \
           v.text_ru, v.text_sha256, c.expires_at, r.keep_months, r.legal_basis AS retention_basis \
         FROM unnest($1::uuid[]) AS i (id) \
         JOIN consent_events e ON e.id = i.id \
         JOIN purpose_versions v ON v.purpose_id = e.purpose_id AND v.version = e.purpose_version \
         JOIN subjects s ON s.id = e.subject_id \
         LEFT JOIN consents c ON c.subject_id = e.subject_id AND c.purpose_id = e.purpose_id \
           AND c.last_event_id = e.id \
         LEFT JOIN retention_rules r ON r.subject_kind = s.kind",
    )
    .bind::<Array<SqlUuid>, _>(events)
    .load(conn)?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

/// The lifecycle of withdrawals about to be written, from what is in force before them (the
/// erasure signs its receipts first, then writes events, receipts and revocations in one
/// statement): each event's (of `subjects`, one per event) purpose at `versions`, the state it will leave, and the subject
/// kind's retention rule.
pub fn of_unwritten(
    conn: &mut PgConnection,
    subjects: &[SubjectId],
    events: &[EventId],
    purposes: &[&str],
    versions: &[i32],
    states: &[&str],
) -> ApiResult<HashMap<EventId, Lifecycle>> {
    let rows: Vec<Lifecycle> = diesel::sql_query(
        "SELECT i.id, i.state, v.version AS purpose_version, NULL::uuid AS guardian_subject_id, \
           v.text_et, v.text_en, v.text_ru, v.text_sha256, NULL::timestamptz AS expires_at, \
           r.keep_months, r.legal_basis AS retention_basis \
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int4[], $5::text[]) \
           AS i (s, id, p, n, state) \
         JOIN purpose_versions v ON v.purpose_id = i.p AND v.version = i.n \
         JOIN subjects s ON s.id = i.s \
         LEFT JOIN retention_rules r ON r.subject_kind = s.kind",
    )
    .bind::<Array<SqlUuid>, _>(subjects)
    .bind::<Array<SqlUuid>, _>(events)
    .bind::<Array<Text>, _>(purposes)
    .bind::<Array<Int4>, _>(versions)
    .bind::<Array<Text>, _>(states)
    .load(conn)?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

impl Lifecycle {
    /// Adds the lifecycle's members to a receipt's purpose and top level.
    pub fn stamp(&self, receipt: &mut Value, status: &str) -> ApiResult<()> {
        // Versions migrated from version 1 carry no stored hash: it is computed from their text.
        let notice = if self.text_sha256.is_empty() {
            notice_sha256(&self.text_et, &self.text_en, self.text_ru.as_deref())?
        } else {
            self.text_sha256.clone()
        };
        let termination = match (status, self.expires_at) {
            ("granted", Some(at)) => json!(at.to_rfc3339_opts(SecondsFormat::Secs, true)),
            _ => json!("on withdrawal"),
        };
        if let Some(purpose) = receipt.pointer_mut("/services/0/purposes/0") {
            purpose["purposeVersion"] = json!(self.purpose_version);
            purpose["noticeSha256"] = json!(notice);
            purpose["termination"] = termination;
        }
        let fallback = if status == "granted" {
            "given"
        } else {
            "withdrawn"
        };
        receipt["state"] = json!(self.state.as_deref().unwrap_or(fallback));
        receipt["retention"] = match (self.keep_months, &self.retention_basis) {
            (Some(months), Some(basis)) => json!({"keep_months": months, "legal_basis": basis}),
            _ => Value::Null,
        };
        receipt["guardian"] = match self.guardian_subject_id {
            Some(id) => json!({ "subject_id": id }),
            None => Value::Null,
        };
        Ok(())
    }
}
