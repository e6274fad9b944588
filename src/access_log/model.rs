//! Stored access-log entries and the queries that search them.

use super::keyed::{micros as micros_text, Fields};
use crate::db::schema::access_log;
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One stored entry, as the API shows it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = access_log)]
pub struct Entry {
    #[serde(skip)]
    pub seq: i64,
    pub id: Uuid,
    /// Always with six fractional digits, as in the entry's Merkle leaf.
    #[serde(serialize_with = "micros")]
    pub at: DateTime<Utc>,
    /// The token's `sub`: who acted.
    pub actor: String,
    /// For partner calls, the recipient the partner acted for.
    pub recipient_id: Option<Uuid>,
    /// What was done, such as `subject.read`.
    pub action: String,
    pub subject_id: Option<Uuid>,
    /// `allowed` or `denied`.
    pub outcome: String,
    /// The caller's `X-Access-Purpose`.
    pub purpose: Option<String>,
    pub request_id: String,
    /// For bulk operations, the number of ids the request named.
    pub count: Option<i32>,
}

fn micros<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&micros_text(at))
}

/// The entry's members as its leaf data reads them.
impl<'a> From<&'a Entry> for Fields<'a> {
    fn from(e: &'a Entry) -> Self {
        Self {
            id: &e.id,
            at: &e.at,
            actor: &e.actor,
            recipient_id: e.recipient_id.as_ref(),
            action: &e.action,
            subject_id: e.subject_id.as_ref(),
            outcome: &e.outcome,
            purpose: e.purpose.as_deref(),
            request_id: &e.request_id,
            count: e.count,
        }
    }
}

/// Filters of a search; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub subject_id: Option<SubjectId>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Newest first instead of oldest first.
    pub descending: bool,
}

/// Up to `limit` entries after the keyset position `after` (a `seq`).
pub fn search(
    conn: &mut PgConnection,
    filter: &Filter,
    after: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<Entry>> {
    let mut query = access_log::table
        .select(Entry::as_select())
        .limit(limit)
        .into_boxed();
    if let Some(subject) = filter.subject_id {
        query = query.filter(access_log::subject_id.eq(subject));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(access_log::actor.eq(actor.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(access_log::action.eq(action.clone()));
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(access_log::outcome.eq(outcome.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(access_log::at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(access_log::at.lt(to));
    }
    query = match (filter.descending, after) {
        (false, Some(seq)) => query.filter(access_log::seq.gt(seq)),
        (true, Some(seq)) => query.filter(access_log::seq.lt(seq)),
        (_, None) => query,
    };
    query = if filter.descending {
        query.order(access_log::seq.desc())
    } else {
        query.order(access_log::seq.asc())
    };
    Ok(query.load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::super::keyed::leaf_data;
    use super::*;

    #[test]
    fn leaf_data_is_canonical_json_with_nulls_and_microseconds() {
        let entry = Entry {
            seq: 1,
            id: Uuid::parse_str("01890000-0000-7000-8000-000000000001").unwrap(),
            at: DateTime::parse_from_rfc3339("2026-12-01T08:00:00.120Z")
                .unwrap()
                .with_timezone(&Utc),
            actor: "a\"\u{1}é".into(),
            recipient_id: None,
            action: "subject.read".into(),
            subject_id: None,
            outcome: "allowed".into(),
            purpose: None,
            request_id: "r".into(),
            count: Some(3),
        };
        assert_eq!(
            String::from_utf8(leaf_data(&entry)).unwrap(),
            r#"{"action":"subject.read","actor":"a\"\u0001é","at":"2026-12-01T08:00:00.120000Z","count":3,"id":"01890000-0000-7000-8000-000000000001","outcome":"allowed","purpose":null,"recipient_id":null,"request_id":"r","subject_id":null}"#
        );
    }
}
