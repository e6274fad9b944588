//! A whole keyset-ordered result streamed in bounded chunks: one query of `chunk` rows at a time
//! on the pool, so memory stays constant however large the result. The NDJSON and CSV exports
//! of the access log and the NDJSON list of privacy requests answer through it.

use super::Db;
use crate::error::ApiResult;
use actix_web::web::Bytes;
use diesel::PgConnection;
use futures_util::Stream;

/// Every row `fetch(conn, after, chunk)` returns, following `key` from chunk to chunk, each chunk
/// turned into bytes by `encode`; an error ends the stream after being yielded.
pub fn keyset_stream<K, R, F, E>(
    db: Db,
    chunk: i64,
    fetch: F,
    key: fn(&R) -> K,
    encode: E,
) -> impl Stream<Item = ApiResult<Bytes>>
where
    K: Copy + Send + 'static,
    R: Send + 'static,
    F: Fn(&mut PgConnection, Option<K>, i64) -> ApiResult<Vec<R>> + Clone + Send + 'static,
    E: Fn(Vec<R>) -> ApiResult<Bytes> + Clone + 'static,
{
    futures_util::stream::unfold(Some(None::<K>), move |cursor| {
        let (db, fetch, encode) = (db.clone(), fetch.clone(), encode.clone());
        async move {
            let after = cursor?;
            match db.run(move |conn| fetch(conn, after, chunk)).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows.last().map(key);
                    let more = rows.len() as i64 == chunk;
                    Some((encode(rows), more.then_some(next)))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    })
}
