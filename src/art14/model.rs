//! The Art. 14 queries. The status is computed when read, never updated by a disclosure: the
//! first disclosure's date is read from the ledger, so the disclosure paths and the erasure
//! write nothing here and no lock order has to be kept with them. The writes here (a notice, an
//! exemption, a subject's source) come after the subject's row lock, as every change does.

use super::api::{Art14, Art14Exemption, ExemptionGround, InformationNotice, NoticeMethod};
use super::rule;
use crate::db::schema::{art14_status, disclosures, subjects};
use crate::disclosures::withheld;
use crate::domain::deadline::tallinn_date;
use crate::domain::ids::{InformationNoticeId, SubjectId};
use crate::domain::source_type::SourceType;
use crate::error::{ApiError, ApiResult};
use actix_web::http::StatusCode;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use diesel::dsl::min;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use std::collections::{HashMap, HashSet};

/// A status as stored (none: the subject has no status row yet), with the subject's creation
/// and its first disclosure's moment.
#[derive(Queryable)]
struct StatusRow {
    subject_id: SubjectId,
    created_at: DateTime<Utc>,
    counts_from: Option<NaiveDate>,
    informed_at: Option<DateTime<Utc>>,
    method: Option<String>,
    notice_version: Option<String>,
    exemption: Option<String>,
    exemption_reference: Option<String>,
    first_disclosed_at: Option<DateTime<Utc>>,
}

impl StatusRow {
    fn into_art14(self, today: NaiveDate) -> ApiResult<Art14> {
        // A subject recorded behind the service's back (no row yet) counts from its creation, as
        // the backfill does.
        let counts_from = self
            .counts_from
            .unwrap_or_else(|| tallinn_date(self.created_at));
        let due_on = rule::due_on(counts_from, self.first_disclosed_at);
        let exemption = self
            .exemption
            .as_deref()
            .map(ExemptionGround::from_db)
            .transpose()?;
        Ok(Art14 {
            due_on,
            status: rule::state(
                self.informed_at.is_some(),
                exemption.is_some(),
                due_on,
                today,
            ),
            informed_at: self.informed_at,
            method: self
                .method
                .as_deref()
                .map(NoticeMethod::from_db)
                .transpose()?,
            notice_version: self.notice_version,
            exemption: exemption.map(|ground| Art14Exemption {
                ground,
                reference: self.exemption_reference,
            }),
        })
    }
}

/// The Art. 14 status of each of `ids` whose source is not the person (the others are absent).
pub fn statuses(
    conn: &mut PgConnection,
    ids: &[SubjectId],
) -> ApiResult<HashMap<SubjectId, Art14>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Built with the query builder, not as SQL text, so that each connection prepares it once: it
    // runs inside every batch of audited reads that holds such a subject.
    // A disclosure withheld from the person does not bring the date forward until its own
    // date has come (contract v3, A).
    let first_disclosed = disclosures::table
        .filter(disclosures::subject_id.eq(subjects::id))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            &withheld::disclosure_shown("disclosures"),
        ))
        .select(min(disclosures::at))
        .single_value();
    let rows: Vec<StatusRow> = subjects::table
        .left_join(art14_status::table)
        .filter(subjects::id.eq_any(ids))
        .filter(subjects::source_type.ne(SourceType::DataSubject.as_str()))
        .select((
            subjects::id,
            subjects::created_at,
            art14_status::counts_from.nullable(),
            art14_status::informed_at.nullable(),
            art14_status::method.nullable(),
            art14_status::notice_version.nullable(),
            art14_status::exemption.nullable(),
            art14_status::exemption_reference.nullable(),
            first_disclosed,
        ))
        .load(conn)?;
    let today = tallinn_date(Utc::now());
    rows.into_iter()
        .map(|row| Ok((row.subject_id, row.into_art14(today)?)))
        .collect()
}

/// The status of one subject (`None` when its source is the person).
pub fn status(conn: &mut PgConnection, id: SubjectId) -> ApiResult<Option<Art14>> {
    Ok(statuses(conn, &[id])?.remove(&id))
}

/// Of `ids`, those owed the information and neither told nor exempt (status `due` or
/// `overdue`): what `ART14_ENFORCEMENT=block` refuses to disclose. A plain read, no lock.
pub fn uninformed(conn: &mut PgConnection, ids: &[SubjectId]) -> ApiResult<HashSet<SubjectId>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: SubjectId,
    }
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT s.id FROM subjects s LEFT JOIN art14_status a ON a.subject_id = s.id \
         WHERE s.id = ANY($1) AND s.source_type <> 'data_subject' \
           AND a.informed_at IS NULL AND a.exemption IS NULL",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Keeps a subject's status row in step with its source (a new record, a rectification): the
/// month counts from the collection's Tallinn date, else the creation's. A source that is the
/// person keeps any row as it is (it is not shown while the source stays so); the caller holds
/// the subject's row lock.
pub fn follow_source(
    conn: &mut PgConnection,
    id: SubjectId,
    source_type: &str,
    collected_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
) -> ApiResult<()> {
    if source_type == SourceType::DataSubject.as_str() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO art14_status (subject_id, counts_from, updated_at) VALUES ($1, $2, now()) \
         ON CONFLICT (subject_id) DO UPDATE SET counts_from = excluded.counts_from, \
           updated_at = excluded.updated_at \
         WHERE art14_status.counts_from IS DISTINCT FROM excluded.counts_from",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Date, _>(rule::counts_from(collected_at, created_at))
    .execute(conn)?;
    Ok(())
}

/// The status row of a subject whose data came from elsewhere, locked for a change (created as
/// the backfill would for a subject recorded behind the service's back); 409
/// `art14-not-applicable` when the data came from the person. The caller holds the subject's
/// row lock. Returns whether an exemption is recorded.
pub fn lock_applicable(conn: &mut PgConnection, id: SubjectId) -> ApiResult<bool> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<Text>)]
        exemption: Option<String>,
    }
    diesel::sql_query(
        "INSERT INTO art14_status (subject_id, counts_from, updated_at) \
         SELECT id, (created_at AT TIME ZONE 'Europe/Tallinn')::date, now() FROM subjects \
         WHERE id = $1 AND source_type <> 'data_subject' ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(id)
    .execute(conn)?;
    let row: Option<Row> = diesel::sql_query(
        "SELECT a.exemption FROM art14_status a JOIN subjects s ON s.id = a.subject_id \
         WHERE a.subject_id = $1 AND s.source_type <> 'data_subject' FOR UPDATE OF a",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .optional()?;
    match row {
        Some(row) => Ok(row.exemption.is_some()),
        None => Err(ApiError::client(
            StatusCode::CONFLICT,
            "art14-not-applicable",
            "the data came from the person themself (source.type data_subject): Art. 14 does not apply",
        )),
    }
}

/// Records a notice and makes it the status's latest (an older notice recorded later does not
/// replace a newer one).
pub fn record_notice(
    conn: &mut PgConnection,
    subject: SubjectId,
    informed_at: DateTime<Utc>,
    method: NoticeMethod,
    notice_version: &str,
    actor: &str,
) -> ApiResult<InformationNotice> {
    let notice = InformationNotice {
        id: InformationNoticeId::new(),
        subject_id: subject,
        informed_at: informed_at.trunc_subsecs(6),
        method,
        notice_version: notice_version.trim().to_owned(),
        actor: actor.to_owned(),
        created_at: Utc::now().trunc_subsecs(6),
    };
    diesel::sql_query(
        "WITH n AS (INSERT INTO information_notices \
                      (id, subject_id, informed_at, method, notice_version, actor, created_at) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7)) \
         UPDATE art14_status SET informed_at = $3, method = $4, notice_version = $5, \
           updated_at = $7 \
         WHERE subject_id = $2 AND (informed_at IS NULL OR informed_at <= $3)",
    )
    .bind::<SqlUuid, _>(notice.id)
    .bind::<SqlUuid, _>(subject)
    .bind::<Timestamptz, _>(notice.informed_at)
    .bind::<Text, _>(method.as_str())
    .bind::<Text, _>(&notice.notice_version)
    .bind::<Text, _>(&notice.actor)
    .bind::<Timestamptz, _>(notice.created_at)
    .execute(conn)?;
    Ok(notice)
}

/// Records the exemption (the caller has seen none recorded).
pub fn record_exemption(
    conn: &mut PgConnection,
    subject: SubjectId,
    ground: ExemptionGround,
    reference: &str,
) -> ApiResult<()> {
    diesel::sql_query(
        "UPDATE art14_status SET exemption = $2, exemption_reference = $3, updated_at = now() \
         WHERE subject_id = $1",
    )
    .bind::<SqlUuid, _>(subject)
    .bind::<Text, _>(ground.as_str())
    .bind::<Text, _>(reference.trim())
    .execute(conn)?;
    Ok(())
}

/// A notice as stored.
#[derive(QueryableByName)]
struct NoticeRow {
    #[diesel(sql_type = SqlUuid)]
    id: InformationNoticeId,
    #[diesel(sql_type = SqlUuid)]
    subject_id: SubjectId,
    #[diesel(sql_type = Timestamptz)]
    informed_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    method: String,
    #[diesel(sql_type = Text)]
    notice_version: String,
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

/// A subject's notices, oldest first (the export).
pub fn notices_of(
    conn: &mut PgConnection,
    subject: SubjectId,
) -> ApiResult<Vec<InformationNotice>> {
    let rows: Vec<NoticeRow> = diesel::sql_query(
        "SELECT id, subject_id, informed_at, method, notice_version, actor, created_at \
         FROM information_notices WHERE subject_id = $1 ORDER BY id",
    )
    .bind::<SqlUuid, _>(subject)
    .load(conn)?;
    rows.into_iter()
        .map(|row| {
            Ok(InformationNotice {
                id: row.id,
                subject_id: row.subject_id,
                informed_at: row.informed_at,
                method: NoticeMethod::from_db(&row.method)?,
                notice_version: row.notice_version,
                actor: row.actor,
                created_at: row.created_at,
            })
        })
        .collect()
}

/// Persons not yet told and not exempt whose `due_on` is before `day`, erased ones left out.
/// The month's part is filtered on the stored date through the rule's bound, the disclosure's
/// on the ledger; `WHERE` only, so the rule is not written again in SQL.
/// A disclosure withheld from the person counts only once its date has come.
fn due_before_sql() -> String {
    format!(
        "FROM art14_status a JOIN subjects s ON s.id = a.subject_id \
         WHERE a.informed_at IS NULL AND a.exemption IS NULL \
           AND s.erased_at IS NULL AND s.source_type <> 'data_subject' \
           AND (a.counts_from < $1 OR EXISTS (SELECT 1 FROM disclosures d \
                  WHERE d.subject_id = a.subject_id AND {FIRST_SHOWN} \
                    AND d.at < ($2::date::timestamp AT TIME ZONE 'Europe/Tallinn')))",
        FIRST_SHOWN = withheld::disclosure_shown("d")
    )
}

/// A row of the due list before its `due_on` is computed.
#[derive(QueryableByName)]
struct DueRow {
    #[diesel(sql_type = SqlUuid)]
    subject_id: SubjectId,
    #[diesel(sql_type = Date)]
    counts_from: NaiveDate,
    #[diesel(sql_type = Text)]
    source_type: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    first_disclosed_at: Option<DateTime<Utc>>,
}

/// One page of the due list (up to `limit` rows after `after`, in id order).
pub fn due_before(
    conn: &mut PgConnection,
    day: NaiveDate,
    after: Option<SubjectId>,
    limit: i64,
) -> ApiResult<Vec<super::api::Art14Due>> {
    let rows: Vec<DueRow> = diesel::sql_query(format!(
        "SELECT a.subject_id, a.counts_from, s.source_type, \
           (SELECT min(d.at) FROM disclosures d WHERE d.subject_id = a.subject_id \
              AND {shown}) AS first_disclosed_at \
         {due_before} AND a.subject_id > $3 ORDER BY a.subject_id LIMIT $4",
        shown = withheld::disclosure_shown("d"),
        due_before = due_before_sql(),
    ))
    .bind::<Date, _>(rule::month_due_before_bound(day))
    .bind::<Date, _>(day)
    .bind::<SqlUuid, _>(after.unwrap_or(SubjectId(uuid::Uuid::nil())))
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    rows.into_iter()
        .map(|row| {
            Ok(super::api::Art14Due {
                subject_id: row.subject_id,
                due_on: rule::due_on(row.counts_from, row.first_disclosed_at),
                source_type: SourceType::from_db(&row.source_type)?,
            })
        })
        .collect()
}

/// How many persons are overdue today (`art14_overdue`).
pub fn overdue(conn: &mut PgConnection) -> ApiResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let today = tallinn_date(Utc::now());
    let count: Count = diesel::sql_query(format!("SELECT count(*) AS n {}", due_before_sql()))
        .bind::<Date, _>(rule::month_due_before_bound(today))
        .bind::<Date, _>(today)
        .get_result(conn)?;
    Ok(count.n)
}

/// The 409 of a disclosure refused under `ART14_ENFORCEMENT=block`.
pub fn not_informed() -> ApiError {
    ApiError::client(
        StatusCode::CONFLICT,
        "subject-not-informed",
        "the person has not been given the information Art. 14 requires (ART14_ENFORCEMENT=block)",
    )
}

/// What the export shows: the person's status (`null` when the data came from them) and every
/// notice given, oldest first.
pub fn export_for(
    conn: &mut PgConnection,
    subject: SubjectId,
) -> ApiResult<(Option<Art14>, Vec<InformationNotice>)> {
    Ok((status(conn, subject)?, notices_of(conn, subject)?))
}
