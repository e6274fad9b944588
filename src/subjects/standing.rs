//! A subject's standing, and the one rule every path answers by: an unknown subject is 404, an
//! erased one 410 `subject-erased` (with `erased_at`); a present one may be restricted (Art. 18:
//! a disclosure answers 403 `subject-restricted`) and held (an active hold: its erasure answers
//! 409 `subject-on-hold`). Handlers (through [`super::path::SubjectPath`]), the group-commit
//! operations (the batched read, the batched consent change), the erasure, the idempotent replay
//! and the privacy requests and their tasks all decide here.

use crate::db::schema::subjects;
use crate::domain::ids::{HoldId, SubjectId};
use crate::domain::restriction::RestrictionGround;
use crate::error::{ApiError, ApiResult};
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// The columns of a subject's row that decide its standing.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subjects, check_for_backend(diesel::pg::Pg))]
pub struct StandingRow {
    pub erased_at: Option<DateTime<Utc>>,
    pub restriction_ground: Option<String>,
    pub restricted_since: Option<DateTime<Utc>>,
}

/// The row lock a change takes on its subject before anything else, so that it and an erasure
/// or a restriction of the subject happen one after the other, never interleaved. Taking it
/// first is also the lock order that keeps them free of deadlocks: an erasure locks the subject,
/// then its consents and authorizations; every change locks the subject, then those rows.
///
/// A change that will also update the subject's row later in its transaction must take
/// [`Lock::NoKeyUpdate`] up front, never [`Lock::KeyShare`] and then an `UPDATE`: two such
/// transactions holding the share lock would each wait for the other to upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// No lock: a read.
    None,
    /// Writes about the subject (consents, authorizations, disclosures, holds): they exclude an
    /// erasure or restriction under way, and one another not at all.
    KeyShare,
    /// A rectification: it excludes an erasure or restriction and other rectifications.
    NoKeyUpdate,
    /// An erasure or restriction: it excludes every other change about the subject.
    Update,
}

/// Where a subject stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No such subject.
    Unknown,
    /// Erased at this moment.
    Erased(DateTime<Utc>),
    /// Present, with the restriction of its processing in force, if any.
    Present(Option<RestrictionGround>),
}

impl Standing {
    /// The subject's standing, taking `lock` on its row (see [`Lock`]).
    pub fn read(conn: &mut PgConnection, id: SubjectId, lock: Lock) -> ApiResult<Self> {
        let query = subjects::table.find(id).select(StandingRow::as_select());
        let row = match lock {
            Lock::None => query.first(conn),
            Lock::KeyShare => query.for_key_share().first(conn),
            Lock::NoKeyUpdate => query.for_no_key_update().first(conn),
            Lock::Update => query.for_update().first(conn),
        }
        .optional()?;
        Self::of(
            row.as_ref()
                .map(|r| (r.erased_at, r.restriction_ground.as_deref())),
        )
    }

    /// From a row read anyway (`None`: there is none): its `erased_at` and `restriction_ground`.
    pub fn of(row: Option<(Option<DateTime<Utc>>, Option<&str>)>) -> ApiResult<Self> {
        Ok(match row {
            None => Self::Unknown,
            Some((Some(at), _)) => Self::Erased(at),
            Some((None, ground)) => {
                Self::Present(ground.map(RestrictionGround::from_db).transpose()?)
            }
        })
    }

    /// The rule: 404 for an unknown subject, 410 for an erased one; else the restriction in force.
    pub fn require(self) -> ApiResult<Option<RestrictionGround>> {
        match self {
            Self::Unknown => Err(unknown()),
            Self::Erased(at) => Err(ApiError::Erased(at)),
            Self::Present(restriction) => Ok(restriction),
        }
    }

    /// The rule for the few paths that still answer about an erased subject (its holds, its
    /// access log): 404 for an unknown one only.
    pub fn known(self) -> ApiResult<Self> {
        match self {
            Self::Unknown => Err(unknown()),
            known => Ok(known),
        }
    }

    /// Whether its data may be disclosed at all: present and not restricted.
    pub fn may_disclose(self) -> bool {
        matches!(self, Self::Present(None))
    }

    /// Whether the subject is there and not erased (whatever its restriction).
    pub fn is_present(self) -> bool {
        matches!(self, Self::Present(_))
    }
}

/// The answer for an id that names no subject.
pub fn unknown() -> ApiError {
    ApiError::not_found("subject")
}

/// The 403 for processing a restricted subject's data that the restriction forbids (a disclosure).
pub fn restricted(ground: RestrictionGround, what: &str) -> ApiError {
    ApiError::client(
        StatusCode::FORBIDDEN,
        "subject-restricted",
        format!(
            "the processing of this subject's data is restricted ({}): {what}",
            ground.as_str()
        ),
    )
}

/// 409 `subject-on-hold` while an active hold covers the subject: what an erasure answers.
pub fn not_held(hold: Option<HoldId>) -> ApiResult<()> {
    hold.map_or(Ok(()), |hold| Err(ApiError::OnHold(hold)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[test]
    fn the_rule() {
        let at = Utc::now();
        assert_eq!(Standing::of(None).unwrap(), Standing::Unknown);
        let unknown = Standing::Unknown.require().unwrap_err();
        assert_eq!(unknown.status_code(), StatusCode::NOT_FOUND);
        let erased = Standing::of(Some((Some(at), Some("accuracy_contested")))).unwrap();
        assert_eq!(erased, Standing::Erased(at));
        assert_eq!(
            erased.require().unwrap_err().status_code(),
            StatusCode::GONE
        );
        assert!(erased.known().is_ok() && Standing::Unknown.known().is_err());
        let restricted = Standing::of(Some((None, Some("accuracy_contested")))).unwrap();
        assert!(restricted.require().unwrap().is_some());
        assert!(restricted.is_present() && !restricted.may_disclose());
        let open = Standing::of(Some((None, None))).unwrap();
        assert!(open.may_disclose() && open.require().unwrap().is_none());
        assert!(Standing::of(Some((None, Some("no such ground")))).is_err());
    }
}
