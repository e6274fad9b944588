//! What makes an authorization in force and a recipient active: the rules both the ledger's
//! queries and a partner read's release apply.

use crate::consents::state::STATE_OF_C;
use crate::db::schema::{disclosure_authorizations as auths, recipients};
use crate::domain::ids::RecipientId;
use crate::error::ApiResult;
use crate::recipients::model::ACTIVE;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::Bool;

/// The state of the consent an authorization follows, computed now (`unset` without a flag);
/// NULL when it follows none.
pub(crate) fn followed_state_sql() -> String {
    format!(
        "CASE WHEN disclosure_authorizations.consent_purpose IS NOT NULL THEN coalesce(( \
           SELECT {STATE_OF_C} FROM consents c JOIN purposes p ON p.id = c.purpose_id \
           WHERE c.subject_id = disclosure_authorizations.subject_id \
             AND c.purpose_id = disclosure_authorizations.consent_purpose), 'unset') END"
    )
}

/// Whether the consent an authorization follows (if any) is in force now: a grant `given` or
/// `renewed`. The statement's `now()`, like every state computed when read.
fn consent_followed() -> SqlLiteral<Bool> {
    sql(&format!(
        "(disclosure_authorizations.consent_purpose IS NULL OR EXISTS ( \
           SELECT 1 FROM consents c JOIN purposes p ON p.id = c.purpose_id \
           WHERE c.subject_id = disclosure_authorizations.subject_id \
             AND c.purpose_id = disclosure_authorizations.consent_purpose \
             AND {STATE_OF_C} IN ('given', 'renewed')))"
    ))
}

/// The SQL form of [`AuthorizationRow::is_active`] without the recipient's part: not revoked,
/// within its validity at `now`, and the consent it follows in force.
#[diesel::dsl::auto_type]
pub(crate) fn in_force(now: DateTime<Utc>) -> _ {
    let followed: SqlLiteral<Bool> = consent_followed();
    auths::revoked_at
        .is_null()
        .and(auths::valid_from.le(now))
        .and(auths::valid_until.is_null().or(auths::valid_until.gt(now)))
        .and(followed)
}

/// True when the recipient exists and is active, holding a share lock on it until the
/// transaction ends so that a suspension cannot commit between this check and the disclosure.
pub(crate) fn lock_active_recipient(conn: &mut PgConnection, id: RecipientId) -> ApiResult<bool> {
    let status: Option<String> = recipients::table
        .find(id)
        .select(recipients::status)
        .for_share()
        .first(conn)
        .optional()?;
    Ok(status.as_deref() == Some(ACTIVE))
}
