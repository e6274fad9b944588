//! The shape every change with an `Idempotency-Key` ends with, named once: one transaction in
//! which a retry of a request already answered gets that answer again (logged like `entry`) and
//! anything else runs the change, whose answer is kept for the retries.

use super::{run, Answer, Key};
use crate::access_log::NewEntry;
use crate::db::Db;
use crate::error::ApiResult;
use actix_web::HttpResponse;
use diesel::PgConnection;

/// Runs `change` (which makes the change and records its entry) in one transaction under `key`,
/// and answers with what it answered, or with the stored answer of the request `key` repeats.
pub async fn commit<F>(
    db: &Db,
    key: Option<Key>,
    entry: Option<NewEntry>,
    change: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&mut PgConnection) -> ApiResult<Answer> + Send + 'static,
{
    let answer = db
        .transaction(move |conn| run(conn, key.as_ref(), entry.as_ref(), change))
        .await?;
    Ok(answer.respond())
}
