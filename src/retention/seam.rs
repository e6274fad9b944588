//! TEMPORARY SEAM, until the erasure branch (holds and `subjects::erasure::erase`) is merged:
//! what retention needs from it, as stand-ins marked as such. Replaced by the real ones on merge.

use crate::access_log::{self, Action, NewEntry, Outcome};
use crate::auth::Actor;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};

/// SQL that is true when an active hold covers the subject `s` (stand-in: no holds exist yet).
pub const ACTIVE_HOLD_SQL: &str = "false";

/// Erases a subject as a run does, in the caller's transaction. STAND-IN: only marks the row
/// erased and writes the entry; the real erasure withdraws, revokes and destroys.
pub fn erase(
    conn: &mut diesel::PgConnection,
    subject: SubjectId,
    _reason: &str,
    request_id: &str,
) -> ApiResult<()> {
    use crate::db::schema::subjects;
    use diesel::prelude::*;
    diesel::update(subjects::table.find(subject))
        .set(subjects::erased_at.eq(Some(chrono::Utc::now())))
        .execute(conn)?;
    let actor = Actor::new(super::run::ACTOR, &[], None);
    let entry = NewEntry::for_actor(
        &actor,
        request_id,
        None,
        Action::RetentionRun,
        Some(subject.uuid()),
        Outcome::Allowed,
    );
    access_log::record(conn, &[entry])?;
    Ok(())
}

/// Whether an erasure was refused because an active hold covers the subject.
pub fn is_on_hold(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::Client {
            code: "subject-on-hold",
            ..
        }
    )
}
