//! The disclosure ledger's rows: what was released to whom, each note sealed under the subject's key.

use crate::at_rest::{self, Cipher, Place};
use crate::db::schema::disclosures;
use crate::domain::ids::{AuthorizationId, DisclosureId, RecipientId, SubjectId};
use crate::error::ApiResult;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

/// A disclosure, its note opened.
#[derive(Debug, Clone)]
pub struct DisclosureRow {
    pub id: DisclosureId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub data_categories: Vec<String>,
    pub channel: String,
    pub note: Option<String>,
    pub authorization_ids: Vec<AuthorizationId>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
    /// Until when (a Tallinn date) the person is not shown it.
    pub withheld_until: Option<NaiveDate>,
    pub withheld_reason: Option<String>,
}

/// A disclosure as stored: its note sealed under the subject's key.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = disclosures, check_for_backend(diesel::pg::Pg))]
pub struct StoredDisclosure {
    pub id: DisclosureId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub data_categories: Vec<String>,
    pub channel: String,
    pub note_enc: Option<Vec<u8>>,
    pub authorization_ids: Vec<AuthorizationId>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub withheld_until: Option<NaiveDate>,
    pub withheld_reason_enc: Option<Vec<u8>>,
}

fn note_at(row: &[u8; 16]) -> Place<'_> {
    Place {
        table: "disclosures",
        column: "note_enc",
        row,
    }
}

/// Where a withheld disclosure's reason is sealed (`row`: its id's bytes).
pub fn reason_at(row: &[u8; 16]) -> Place<'_> {
    Place {
        table: "disclosures",
        column: "withheld_reason_enc",
        row,
    }
}

impl StoredDisclosure {
    /// Seals a new disclosure's note under the subject's key (none: it has no note).
    pub fn seal(new: &NewDisclosureRow, key: Option<&Cipher>) -> Self {
        let row = *new.id.uuid().as_bytes();
        Self {
            id: new.id,
            subject_id: new.subject_id,
            recipient_id: new.recipient_id,
            data_categories: new.data_categories.clone(),
            channel: new.channel.clone(),
            note_enc: key.and_then(|k| k.seal_text(note_at(&row), new.note.as_deref())),
            authorization_ids: new.authorization_ids.clone(),
            actor: new.actor.clone(),
            at: new.at,
            request_id: new.request_id.clone(),
            withheld_until: new.withheld_until,
            withheld_reason_enc: key
                .and_then(|k| k.seal_text(reason_at(&row), new.withheld_reason.as_deref())),
        }
    }

    /// The disclosure in clear; without the key its note is absent.
    pub fn open(self, key: Option<&Cipher>) -> DisclosureRow {
        let row = *self.id.uuid().as_bytes();
        DisclosureRow {
            note: key.and_then(|k| k.open_text(note_at(&row), self.note_enc.as_deref())),
            withheld_reason: key
                .and_then(|k| k.open_text(reason_at(&row), self.withheld_reason_enc.as_deref())),
            withheld_until: self.withheld_until,
            id: self.id,
            subject_id: self.subject_id,
            recipient_id: self.recipient_id,
            data_categories: self.data_categories,
            channel: self.channel,
            authorization_ids: self.authorization_ids,
            actor: self.actor,
            at: self.at,
            request_id: self.request_id,
        }
    }
}

/// A disclosure about to be inserted, in clear.
#[derive(Debug)]
pub struct NewDisclosureRow {
    pub id: DisclosureId,
    pub subject_id: SubjectId,
    pub recipient_id: RecipientId,
    pub data_categories: Vec<String>,
    pub channel: String,
    pub note: Option<String>,
    pub authorization_ids: Vec<AuthorizationId>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub withheld_until: Option<NaiveDate>,
    pub withheld_reason: Option<String>,
}

/// Inserts a disclosure, its note sealed under the subject's key.
pub fn insert_disclosure(
    conn: &mut PgConnection,
    row: &NewDisclosureRow,
) -> ApiResult<DisclosureRow> {
    let key = match (&row.note, &row.withheld_reason) {
        (None, None) => None,
        _ => at_rest::subject_key(conn, row.subject_id)?,
    };
    let stored = StoredDisclosure::seal(row, key.as_ref());
    diesel::insert_into(disclosures::table)
        .values(&stored)
        .execute(conn)?;
    Ok(stored.open(key.as_ref()))
}

/// Inserts disclosures without notes (the partner reads of a batch) in one statement.
pub fn insert_disclosures(conn: &mut PgConnection, rows: &[NewDisclosureRow]) -> ApiResult<()> {
    let stored: Vec<StoredDisclosure> = rows
        .iter()
        .map(|row| StoredDisclosure::seal(row, None))
        .collect();
    diesel::insert_into(disclosures::table)
        .values(&stored)
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` disclosures of the subject after `cursor`, oldest first; all of them without a
/// limit.
pub fn disclosures_of(
    conn: &mut PgConnection,
    subject: SubjectId,
    cursor: Option<DisclosureId>,
    limit: Option<i64>,
) -> ApiResult<Vec<DisclosureRow>> {
    let mut query = disclosures::table
        .filter(disclosures::subject_id.eq(subject))
        .order(disclosures::id)
        .select(StoredDisclosure::as_select())
        .into_boxed();
    if let Some(after) = cursor {
        query = query.filter(disclosures::id.gt(after));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    let rows: Vec<StoredDisclosure> = query.load(conn)?;
    // Only a note and a reason are sealed; the key is read when some row has one.
    let key = if rows
        .iter()
        .any(|r| r.note_enc.is_some() || r.withheld_reason_enc.is_some())
    {
        at_rest::subject_key(conn, subject)?
    } else {
        None
    };
    Ok(rows.into_iter().map(|row| row.open(key.as_ref())).collect())
}

/// The subject's disclosure `id`, locked until the transaction ends and opened, or 404.
pub fn lock_disclosure(
    conn: &mut PgConnection,
    subject: SubjectId,
    id: DisclosureId,
) -> ApiResult<DisclosureRow> {
    let stored: StoredDisclosure = disclosures::table
        .filter(disclosures::subject_id.eq(subject))
        .filter(disclosures::id.eq(id))
        .select(StoredDisclosure::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| crate::error::ApiError::not_found("disclosure"))?;
    let key = at_rest::subject_key(conn, subject)?;
    Ok(stored.open(key.as_ref()))
}

/// Sets the disclosure's withholding (`None`: ended, its reason dropped), keeping `request_id`
/// among those whose entries are withheld with it; the disclosure as it is now.
pub fn set_withholding(
    conn: &mut PgConnection,
    row: DisclosureRow,
    withholding: Option<(NaiveDate, &str)>,
    request_id: &str,
) -> ApiResult<DisclosureRow> {
    let key = at_rest::subject_key(conn, row.subject_id)?;
    let place = *row.id.uuid().as_bytes();
    let until = withholding.map(|(until, _)| until);
    let reason = withholding.map(|(_, reason)| reason);
    let sealed = key
        .as_ref()
        .and_then(|k| k.seal_text(reason_at(&place), reason));
    let stored: StoredDisclosure = diesel::update(disclosures::table.find(row.id))
        .set((
            disclosures::withheld_until.eq(until),
            disclosures::withheld_reason_enc.eq(sealed),
            disclosures::withholding_request_ids.eq(diesel::dsl::array_append(
                disclosures::withholding_request_ids,
                request_id,
            )),
        ))
        .returning(StoredDisclosure::as_returning())
        .get_result(conn)?;
    Ok(stored.open(key.as_ref()))
}

/// Adds `request_id` to those whose entries are withheld with the disclosure, if it is withheld.
pub fn keep_request_id(
    conn: &mut PgConnection,
    id: DisclosureId,
    request_id: &str,
) -> ApiResult<()> {
    diesel::update(
        disclosures::table
            .find(id)
            .filter(disclosures::withheld_until.is_not_null()),
    )
    .set(
        disclosures::withholding_request_ids.eq(diesel::dsl::array_append(
            disclosures::withholding_request_ids,
            request_id,
        )),
    )
    .execute(conn)?;
    Ok(())
}
