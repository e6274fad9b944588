//! What the access response reads besides the export: the recipients by name from the disclosure
//! ledger with their notices, and the access log summed per day. Both are aggregated in the
//! database, so that a person with thousands of entries costs a few grouped rows, not thousands.
//! Each leaves out what is withheld from the person now (`disclosures::withheld`).

use crate::access_log::actor_kind::ACTOR_KIND_OF_A;
use crate::disclosures::model::RECORDED_RECIPIENT_OF_A;
use crate::disclosures::withheld::{disclosure_shown, entry_withheld, notice_withheld};
use crate::domain::ids::SubjectId;
use crate::error::ApiResult;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

/// A recipient with what it received of the person's data.
#[derive(Debug, QueryableByName)]
pub struct RecipientRow {
    #[diesel(sql_type = SqlUuid)]
    pub recipient_id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub registry_code: Option<String>,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Array<Text>)]
    pub data_categories: Vec<String>,
    #[diesel(sql_type = Timestamptz)]
    pub first_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub last_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Every recipient of the person's data (staff records and partner reads alike are rows of
/// `disclosures`), first disclosed first.
pub fn recipients(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<RecipientRow>> {
    Ok(diesel::sql_query(format!(
        "SELECT d.recipient_id, r.name, r.registry_code, r.category, \
                ARRAY(SELECT DISTINCT c FROM disclosures d2, unnest(d2.data_categories) c \
                      WHERE d2.subject_id = $1 AND d2.recipient_id = d.recipient_id \
                        AND {shown2} \
                      ORDER BY c) AS data_categories, \
                min(d.at) AS first_at, max(d.at) AS last_at, count(*) AS count \
         FROM disclosures d JOIN recipients r ON r.id = d.recipient_id \
         WHERE d.subject_id = $1 AND {shown} \
         GROUP BY d.recipient_id, r.name, r.registry_code, r.category \
         ORDER BY min(d.at), d.recipient_id",
        shown = disclosure_shown("d"),
        shown2 = disclosure_shown("d2"),
    ))
    .bind::<SqlUuid, _>(subject.uuid())
    .load(conn)?)
}

/// A notice about the person to a recipient.
#[derive(Debug, QueryableByName)]
pub struct NoticeRow {
    #[diesel(sql_type = SqlUuid)]
    pub recipient_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<String>,
}

/// Every notice about the person, oldest first.
pub fn notices(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<NoticeRow>> {
    Ok(diesel::sql_query(format!(
        "SELECT n.recipient_id, n.type AS kind, n.outcome FROM notices n \
         WHERE n.subject_id = $1 AND NOT {} ORDER BY n.seq",
        notice_withheld("n")
    ))
    .bind::<SqlUuid, _>(subject.uuid())
    .load(conn)?)
}

/// The access log about the person, summed per Tallinn date, action, actor kind, organisation
/// and purpose. The actor itself never leaves the database: only its kind (C-579/21).
#[derive(Debug, QueryableByName)]
pub struct SummaryRow {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub actor_kind: String,
    /// The recipient's name and code; null for the controller.
    #[diesel(sql_type = Nullable<Text>)]
    pub recipient_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub recipient_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub purpose: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// The summary rows, oldest day first. The organisation is the recipient for entries naming one
/// and for a staff disclosure record (found by its request id), else the controller.
pub fn summary(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<SummaryRow>> {
    Ok(diesel::sql_query(format!(
        "WITH e AS ( \
           SELECT (a.at AT TIME ZONE 'Europe/Tallinn')::date AS day, a.action, a.purpose, \
                  {ACTOR_KIND_OF_A} AS actor_kind, \
                  COALESCE(a.recipient_id, {RECORDED_RECIPIENT_OF_A}) AS organisation \
           FROM access_log a WHERE a.subject_id = $1 AND NOT {withheld}) \
         SELECT e.day, e.action, e.actor_kind, r.name AS recipient_name, \
                r.registry_code AS recipient_code, e.purpose, count(*) AS count \
         FROM e LEFT JOIN recipients r ON r.id = e.organisation \
         GROUP BY e.day, e.action, e.actor_kind, e.organisation, r.name, r.registry_code, e.purpose \
         ORDER BY e.day, e.action, e.actor_kind, r.name NULLS FIRST, e.purpose NULLS FIRST",
        withheld = entry_withheld("a"),
    ))
    .bind::<SqlUuid, _>(subject.uuid())
    .load(conn)?)
}
