//! What makes an authorization in force and a recipient active: the rules both the ledger's
//! queries and a partner read's release apply.

use crate::db::schema::{disclosure_authorizations as auths, recipients};
use crate::domain::ids::RecipientId;
use crate::error::ApiResult;
use crate::recipients::model::ACTIVE;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// The SQL form of [`AuthorizationRow::is_active`] without the recipient's part: not revoked
/// and within its validity at `now`.
#[diesel::dsl::auto_type]
pub(crate) fn in_force(now: DateTime<Utc>) -> _ {
    auths::revoked_at
        .is_null()
        .and(auths::valid_from.le(now))
        .and(auths::valid_until.is_null().or(auths::valid_until.gt(now)))
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
