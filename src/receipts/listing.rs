//! A subject's receipts all at once, for an evidence bundle: the stored ones, after signing any
//! event recorded before receipts existed (as a single receipt's read does).

use crate::db::schema::{consent_events, consent_receipts};
use crate::domain::ids::{EventId, SubjectId};
use crate::error::ApiResult;
use diesel::prelude::*;

/// Signs and stores the receipt of each of the subject's events that has none yet.
pub fn sign_missing(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<()> {
    let missing: Vec<EventId> = consent_events::table
        .left_join(consent_receipts::table)
        .filter(consent_events::subject_id.eq(subject))
        .filter(consent_receipts::event_id.nullable().is_null())
        .select(consent_events::id)
        .load(conn)?;
    for event in missing {
        super::find(conn, subject, event)?;
    }
    Ok(())
}

/// The stored receipts of the subject's events, `(event id, compact JWS)`, by event id.
pub fn of_subject(
    conn: &mut PgConnection,
    subject: SubjectId,
) -> ApiResult<Vec<(EventId, String)>> {
    Ok(consent_receipts::table
        .inner_join(consent_events::table)
        .filter(consent_events::subject_id.eq(subject))
        .select((consent_receipts::event_id, consent_receipts::jws))
        .order(consent_receipts::event_id)
        .load(conn)?)
}
