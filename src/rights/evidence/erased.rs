//! What a bundle holds of an erased person: ids only. The history tables keep their rows after
//! an erasure (ids, no readable value: the person's key is gone), so each file lists the ids of
//! the rows about the person, as `[{"id": ...}]`, oldest first.

use crate::db::schema::{
    consent_events, disclosure_authorizations, disclosures, information_notices, notices,
};
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

fn listed(ids: Vec<Uuid>) -> Value {
    Value::Array(ids.into_iter().map(|id| json!({ "id": id })).collect())
}

/// `(file name, contents)` of every data file, for a person erased at `erased_at`.
pub fn data_files(
    conn: &mut PgConnection,
    subject: SubjectId,
    erased_at: DateTime<Utc>,
) -> ApiResult<Vec<(&'static str, Value)>> {
    let events: Vec<Uuid> = consent_events::table
        .filter(consent_events::subject_id.eq(subject))
        .order((consent_events::at, consent_events::id))
        .select(consent_events::id)
        .load(conn)?;
    let authorizations: Vec<Uuid> = disclosure_authorizations::table
        .filter(disclosure_authorizations::subject_id.eq(subject))
        .order(disclosure_authorizations::id)
        .select(disclosure_authorizations::id)
        .load(conn)?;
    let disclosed: Vec<Uuid> = disclosures::table
        .filter(disclosures::subject_id.eq(subject))
        .order(disclosures::id)
        .select(disclosures::id)
        .load(conn)?;
    let notified: Vec<Uuid> = notices::table
        .filter(notices::subject_id.eq(subject))
        .order(notices::id)
        .select(notices::id)
        .load(conn)?;
    let informed: Vec<Uuid> = information_notices::table
        .filter(information_notices::subject_id.eq(subject))
        .order(information_notices::id)
        .select(information_notices::id)
        .load(conn)?;
    Ok(vec![
        (
            "subject.json",
            json!({"id": subject, "erased_at": erased_at}),
        ),
        ("consent_events.json", listed(events)),
        ("authorizations.json", listed(authorizations)),
        ("disclosures.json", listed(disclosed)),
        ("notifications.json", listed(notified)),
        ("information_notices.json", listed(informed)),
    ])
}
