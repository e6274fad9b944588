//! Restriction of processing (Art. 18): while a subject is restricted its data is kept and may be
//! read and corrected, but it is not used (eligibility), not disclosed (partner reads, staff
//! disclosure records). The subject row carries the restriction in force; `restrictions` keeps
//! each one with its reasons.

use crate::access_log::{self, NewEntry};
use crate::db::schema::{restrictions, subjects};
use crate::domain::ids::{PrivacyRequestId, RestrictionId, SubjectId};
use crate::domain::privacy_request::RequestKind;
use crate::domain::restriction::RestrictionGround;
use crate::error::{ApiError, ApiResult};
use crate::subjects::model::Lock;
use crate::subjects::path;
use actix_web::http::StatusCode;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;

/// A restriction as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = restrictions, check_for_backend(diesel::pg::Pg))]
pub struct RestrictionRow {
    pub id: RestrictionId,
    pub subject_id: SubjectId,
    pub ground: String,
    pub reason: String,
    pub since: DateTime<Utc>,
    pub restricted_by: String,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lift_reason: Option<String>,
    pub lifted_by: Option<String>,
}

/// 409 `already-restricted` or `not-restricted`.
fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::client(StatusCode::CONFLICT, code, detail)
}

/// The privacy request a restriction answers, if any, and whether it must be verified.
#[derive(Debug, Clone, Copy, Default)]
pub struct Answering {
    pub privacy_request_id: Option<PrivacyRequestId>,
    pub require_verified: bool,
}

/// Restricts the subject in the caller's transaction, with its `subject.restrict` entry: 400 or
/// 409 for the request it cites (see `requests::citation`), 404, 410 for an erased subject, 409
/// `already-restricted`.
pub fn restrict(
    conn: &mut PgConnection,
    subject: SubjectId,
    ground: RestrictionGround,
    reason: &str,
    entry: NewEntry,
    answering: Answering,
) -> ApiResult<RestrictionRow> {
    // Before the subject's row: a request row is never locked after a subject row.
    crate::requests::citation::require(
        conn,
        answering.privacy_request_id,
        RequestKind::Restriction,
        subject,
        answering.require_verified,
    )?;
    // An exclusive lock: partner reads and disclosures under way finish first, later ones see it.
    if path::lock(conn, subject, Lock::Update)?.is_some() {
        return Err(conflict(
            "already-restricted",
            "the subject's processing is already restricted; lift it first to change the ground",
        ));
    }
    let row = RestrictionRow {
        id: RestrictionId::new(),
        subject_id: subject,
        ground: ground.as_str().to_owned(),
        reason: reason.to_owned(),
        since: Utc::now().trunc_subsecs(6),
        restricted_by: entry.actor.clone(),
        lifted_at: None,
        lift_reason: None,
        lifted_by: None,
    };
    diesel::insert_into(restrictions::table)
        .values(&row)
        .execute(conn)?;
    diesel::update(subjects::table.find(subject))
        .set((
            subjects::restriction_ground.eq(&row.ground),
            subjects::restricted_since.eq(row.since),
        ))
        .execute(conn)?;
    access_log::record(conn, &[entry])?;
    // Art. 19: every recipient of the subject's data is told, in this transaction.
    crate::notices::queue(
        conn,
        &crate::notices::Event::plain(subject, crate::domain::notice::NoticeType::Restricted)
            .for_request(answering.privacy_request_id),
    )?;
    Ok(row)
}

/// Lifts the subject's restriction in the caller's transaction, with its
/// `subject.restriction_lift` entry: 404, 410, 409 `not-restricted`.
pub fn lift(
    conn: &mut PgConnection,
    subject: SubjectId,
    reason: &str,
    entry: NewEntry,
) -> ApiResult<RestrictionRow> {
    if path::lock(conn, subject, Lock::Update)?.is_none() {
        return Err(conflict(
            "not-restricted",
            "the subject's processing is not restricted",
        ));
    }
    let row = diesel::update(
        restrictions::table
            .filter(restrictions::subject_id.eq(subject))
            .filter(restrictions::lifted_at.is_null()),
    )
    .set((
        restrictions::lifted_at.eq(Utc::now().trunc_subsecs(6)),
        restrictions::lift_reason.eq(reason),
        restrictions::lifted_by.eq(&entry.actor),
    ))
    .returning(RestrictionRow::as_returning())
    .get_result(conn)?;
    diesel::update(subjects::table.find(subject))
        .set((
            subjects::restriction_ground.eq(None::<String>),
            subjects::restricted_since.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)?;
    access_log::record(conn, &[entry])?;
    // Art. 19: every recipient of the subject's data is told, in this transaction.
    crate::notices::queue(
        conn,
        &crate::notices::Event::plain(
            subject,
            crate::domain::notice::NoticeType::RestrictionLifted,
        ),
    )?;
    Ok(row)
}

/// The restriction in force, with its reason, for the export.
pub fn in_force(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Option<RestrictionRow>> {
    Ok(restrictions::table
        .filter(restrictions::subject_id.eq(subject))
        .filter(restrictions::lifted_at.is_null())
        .select(RestrictionRow::as_select())
        .first(conn)
        .optional()?)
}
