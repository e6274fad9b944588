//! Breach rows, the persons a breach touched, and the register's figures.

use super::api::{
    Assessment, AuthorityNotification, Breach, Exemption, Nature, Risk, SubjectCommunication,
    Window,
};
use crate::db::schema::breaches;
use crate::domain::disclosure::DataCategory;
use crate::domain::ids::{BreachId, RecipientId};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// A stored breach.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = breaches, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct BreachRow {
    pub id: BreachId,
    pub version: i32,
    pub status: String,
    pub aware_at: DateTime<Utc>,
    pub nature: Vec<String>,
    pub description_enc: Vec<u8>,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub recipient_id: Option<RecipientId>,
    pub actor: Option<String>,
    pub data_categories: Vec<String>,
    pub notify_authority_by: DateTime<Utc>,
    pub risk: Option<String>,
    pub risk_reasoning: Option<String>,
    pub assessed_at: Option<DateTime<Utc>>,
    pub authority_notified_at: Option<DateTime<Utc>>,
    pub authority_reference: Option<String>,
    pub delay_reasons: Option<String>,
    pub communicated_at: Option<DateTime<Utc>>,
    pub communication_method: Option<String>,
    pub communication_exemption: Option<String>,
    pub affected_count: Option<i32>,
    pub scope_computed_at: Option<DateTime<Utc>>,
    pub scope_sources: Option<Vec<String>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// What the description is sealed as (a service secret of the breach's row).
pub const SEALED_AS: &str = "breaches.description";

/// Seals a description under the service key, bound to the breach.
pub fn seal(conn: &mut PgConnection, id: BreachId, text: &str) -> ApiResult<Vec<u8>> {
    crate::at_rest::service::seal_service_secret(conn, SEALED_AS, id.0.as_bytes(), text.as_bytes())
}

/// The answer for a stored breach, its description opened.
pub fn breach(conn: &mut PgConnection, row: BreachRow) -> ApiResult<Breach> {
    let opened = crate::at_rest::service::open_service_secret(
        conn,
        SEALED_AS,
        row.id.0.as_bytes(),
        &row.description_enc,
    )?
    .ok_or_else(|| ApiError::internal("a breach description does not open"))?;
    let description = String::from_utf8(opened.to_vec()).map_err(ApiError::internal)?;
    let assessment = match (&row.risk, &row.risk_reasoning) {
        (Some(risk), Some(reasoning)) => Some(Assessment {
            risk: Risk::from_db(risk)?,
            reasoning: reasoning.clone(),
        }),
        _ => None,
    };
    let authority_notification = match (row.authority_notified_at, &row.authority_reference) {
        (Some(notified_at), Some(reference)) => Some(AuthorityNotification {
            notified_at,
            reference: reference.clone(),
            delay_reasons: row.delay_reasons.clone(),
        }),
        _ => None,
    };
    let subject_communication = match (row.communicated_at, &row.communication_method) {
        (Some(communicated_at), Some(method)) => Some(SubjectCommunication {
            communicated_at,
            method: method.clone(),
            exemption: row
                .communication_exemption
                .as_deref()
                .map(Exemption::from_db)
                .transpose()?,
        }),
        _ => None,
    };
    Ok(Breach {
        id: row.id,
        status: row.status,
        aware_at: row.aware_at,
        nature: row
            .nature
            .iter()
            .map(|n| Nature::from_db(n))
            .collect::<ApiResult<_>>()?,
        description,
        window: Window {
            from: row.window_from,
            to: row.window_to,
        },
        recipient_id: row.recipient_id,
        actor: row.actor,
        data_categories: row
            .data_categories
            .iter()
            .map(|c| DataCategory::from_db(c))
            .collect::<ApiResult<_>>()?,
        notify_authority_by: row.notify_authority_by,
        assessment,
        authority_notification,
        subject_communication,
        affected_count: row.affected_count,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        closed_at: row.closed_at,
    })
}

/// The breach, or 404; locked for a change when `lock`.
pub fn find(conn: &mut PgConnection, id: BreachId, lock: bool) -> ApiResult<BreachRow> {
    let query = breaches::table.find(id).select(BreachRow::as_select());
    let row = if lock {
        query.for_update().first(conn).optional()?
    } else {
        query.first(conn).optional()?
    };
    row.ok_or_else(|| ApiError::not_found("breach"))
}

/// Every breach (the register), optionally of one status, oldest first.
pub fn list(conn: &mut PgConnection, status: Option<&str>) -> ApiResult<Vec<BreachRow>> {
    let mut query = breaches::table
        .select(BreachRow::as_select())
        .order(breaches::id)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(breaches::status.eq(status.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Replaces a breach's affected persons: those with a disclosure (staff record or partner read)
/// to its recipient in its window covering any of its categories, and those of `allowed`
/// entries by its actor in its window. Returns how many.
pub fn scope(
    conn: &mut PgConnection,
    row: &BreachRow,
    disclosures: bool,
    log: bool,
) -> ApiResult<i64> {
    use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
    diesel::delete(crate::db::schema::breach_subjects::table)
        .filter(crate::db::schema::breach_subjects::breach_id.eq(row.id))
        .execute(conn)?;
    let inserted = diesel::sql_query(
        "INSERT INTO breach_subjects (breach_id, subject_id, via)
         SELECT $1, subject_id,
                CASE WHEN bool_or(via = 'disclosures') THEN 'disclosures' ELSE 'access_log' END
         FROM (
             SELECT DISTINCT subject_id, 'disclosures' AS via FROM disclosures
             WHERE $6 AND recipient_id = $2 AND at >= $3 AND at <= $4 AND data_categories && $5
             UNION ALL
             SELECT DISTINCT subject_id, 'access_log' FROM access_log
             WHERE $7 AND actor = $8 AND outcome = 'allowed' AND subject_id IS NOT NULL
               AND at >= $3 AND at <= $4
         ) found GROUP BY subject_id",
    )
    .bind::<SqlUuid, _>(row.id)
    .bind::<Nullable<SqlUuid>, _>(row.recipient_id)
    .bind::<Timestamptz, _>(row.window_from)
    .bind::<Timestamptz, _>(row.window_to)
    .bind::<Array<Text>, _>(&row.data_categories)
    .bind::<Bool, _>(disclosures && row.recipient_id.is_some())
    .bind::<Bool, _>(log && row.actor.is_some())
    .bind::<Nullable<Text>, _>(&row.actor)
    .execute(conn)?;
    diesel::sql_query(
        "UPDATE breach_subjects SET via = 'access_log' WHERE breach_id = $1 AND via = 'access_log'",
    )
    .bind::<SqlUuid, _>(row.id)
    .execute(conn)?;
    Ok(i64::try_from(inserted).unwrap_or(i64::MAX))
}

/// The figures of the metrics: open breaches, and those past their deadline unnotified whose
/// risk was not assessed as `none` (an unassessed one counts).
pub fn counts(conn: &mut PgConnection) -> ApiResult<(i64, i64)> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    Ok(breaches::table
        .filter(breaches::status.eq("open"))
        .select((
            sql::<BigInt>("count(*)"),
            sql::<BigInt>(
                "count(*) FILTER (WHERE authority_notified_at IS NULL AND notify_authority_by < now() \
                 AND risk IS DISTINCT FROM 'none')",
            ),
        ))
        .get_result(conn)?)
}
