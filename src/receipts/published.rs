//! The published receipt keys: every key that ever signed (kept in `receipt_keys`) and the
//! current one, as a JWK set. `/.well-known/jwks.json` serves it, and evidence bundles carry it.

use crate::db::schema::receipt_keys;
use crate::error::ApiResult;
use diesel::prelude::*;

/// The JWK set `{"keys": [...]}`, oldest key first, the current one always listed.
pub fn key_set(conn: &mut PgConnection) -> ApiResult<serde_json::Value> {
    let current = super::key()?;
    let stored: Vec<(String, String)> = receipt_keys::table
        .select((receipt_keys::kid, receipt_keys::x))
        .order(receipt_keys::added_at)
        .load(conn)?;
    let mut keys: Vec<serde_json::Value> =
        stored.iter().map(|(kid, x)| super::jwk(kid, x)).collect();
    if !stored.iter().any(|(kid, _)| *kid == current.kid) {
        keys.push(super::jwk(&current.kid, &current.x));
    }
    Ok(serde_json::json!({ "keys": keys }))
}
