//! Frozen access responses and their one-time download links, as stored: the RFC 8785 JSON and
//! the page made from it sealed under the subject's key (so erasure, which destroys the key,
//! leaves them unreadable), the JSON's SHA-256, a detached JWS over it, and of each link only
//! the SHA-256 of its token.

use crate::at_rest::{self, Place};
use crate::db::schema::{access_responses, download_links};
use crate::domain::ids::{PrivacyRequestId, SubjectId};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// How long a download link stays valid, in clock hours (7 days, whatever the time zone does).
pub const LINK_HOURS: i64 = 168;

/// A frozen response as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_responses, check_for_backend(diesel::pg::Pg))]
pub struct FrozenRow {
    pub id: Uuid,
    pub request_id: PrivacyRequestId,
    pub subject_id: SubjectId,
    pub lang: String,
    pub json_enc: Vec<u8>,
    pub html_enc: Vec<u8>,
    pub sha256: String,
    pub jws: String,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

fn place<'a>(column: &'static str, row: &'a [u8; 16]) -> Place<'a> {
    Place {
        table: "access_responses",
        column,
        row,
    }
}

/// The subject's key, or 410 when it is gone (erased).
fn key_of(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<at_rest::Cipher> {
    at_rest::subject_key(conn, subject)?.ok_or_else(|| {
        ApiError::client(
            actix_web::http::StatusCode::GONE,
            "subject-erased",
            "the subject was erased",
        )
    })
}

/// What freezing stores, in clear.
pub struct NewFrozen<'a> {
    pub id: Uuid,
    pub request_id: PrivacyRequestId,
    pub subject_id: SubjectId,
    pub lang: &'a str,
    pub json: &'a [u8],
    pub html: &'a str,
    pub sha256: String,
    pub jws: String,
    pub actor: &'a str,
    pub created_at: DateTime<Utc>,
}

/// Seals and stores a frozen response.
pub fn insert(conn: &mut PgConnection, new: &NewFrozen<'_>) -> ApiResult<FrozenRow> {
    let key = key_of(conn, new.subject_id)?;
    let row = *new.id.as_bytes();
    let stored = FrozenRow {
        id: new.id,
        request_id: new.request_id,
        subject_id: new.subject_id,
        lang: new.lang.to_owned(),
        json_enc: key.seal(place("json_enc", &row), new.json),
        html_enc: key.seal(place("html_enc", &row), new.html.as_bytes()),
        sha256: new.sha256.clone(),
        jws: new.jws.clone(),
        actor: new.actor.to_owned(),
        created_at: new.created_at,
    };
    diesel::insert_into(access_responses::table)
        .values(&stored)
        .execute(conn)?;
    Ok(stored)
}

/// The frozen bytes of `column` (`json_enc` or `html_enc`); 410 when the key is gone.
pub fn open(conn: &mut PgConnection, row: &FrozenRow, html: bool) -> ApiResult<Vec<u8>> {
    let key = key_of(conn, row.subject_id)?;
    let id = *row.id.as_bytes();
    let (column, sealed) = if html {
        ("html_enc", &row.html_enc)
    } else {
        ("json_enc", &row.json_enc)
    };
    key.open(place(column, &id), sealed)
        .map(|plain| plain.to_vec())
        .ok_or_else(|| ApiError::internal("a frozen access response does not open"))
}

/// One frozen response; 404 for none.
pub fn find(conn: &mut PgConnection, id: Uuid) -> ApiResult<FrozenRow> {
    access_responses::table
        .find(id)
        .select(FrozenRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("access response"))
}

/// One response frozen for `request`, locked so that links are issued for it one at a time
/// (each kills the ones before it); 404 for none.
pub fn lock_of_request(
    conn: &mut PgConnection,
    request: PrivacyRequestId,
    id: Uuid,
) -> ApiResult<FrozenRow> {
    access_responses::table
        .find(id)
        .filter(access_responses::request_id.eq(request))
        .select(FrozenRow::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("access response of this request"))
}

/// Whether any response was frozen for the request (the close rule reads it).
pub fn any_for(conn: &mut PgConnection, request: PrivacyRequestId) -> ApiResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        access_responses::table.filter(access_responses::request_id.eq(request)),
    ))
    .get_result(conn)?)
}

/// A link as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = download_links, check_for_backend(diesel::pg::Pg))]
pub struct LinkRow {
    pub token_sha256: Vec<u8>,
    pub response_id: Uuid,
    pub subject_id: SubjectId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Stores a new link for the response, killing the ones before it.
pub fn new_link(
    conn: &mut PgConnection,
    response: &FrozenRow,
    hash: [u8; 32],
    now: DateTime<Utc>,
) -> ApiResult<DateTime<Utc>> {
    diesel::update(
        download_links::table
            .filter(download_links::response_id.eq(response.id))
            .filter(download_links::revoked_at.is_null()),
    )
    .set(download_links::revoked_at.eq(now))
    .execute(conn)?;
    let expires_at = now + Duration::hours(LINK_HOURS);
    diesel::insert_into(download_links::table)
        .values(&LinkRow {
            token_sha256: hash.to_vec(),
            response_id: response.id,
            subject_id: response.subject_id,
            created_at: now,
            expires_at,
            used_at: None,
            revoked_at: None,
        })
        .execute(conn)?;
    Ok(expires_at)
}

/// The link a token hashes to, locked for its one use.
pub fn lock_link(conn: &mut PgConnection, hash: &[u8; 32]) -> ApiResult<Option<LinkRow>> {
    Ok(download_links::table
        .find(&hash[..])
        .select(LinkRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// Marks the link used.
pub fn spend(conn: &mut PgConnection, hash: &[u8; 32], at: DateTime<Utc>) -> ApiResult<()> {
    diesel::update(download_links::table.find(&hash[..]))
        .set(download_links::used_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// The responses frozen for the subject, oldest first (the export's `access_responses`).
pub fn of_subject(conn: &mut PgConnection, subject: SubjectId) -> ApiResult<Vec<FrozenRow>> {
    Ok(access_responses::table
        .filter(access_responses::subject_id.eq(subject))
        .order((access_responses::created_at, access_responses::id))
        .select(FrozenRow::as_select())
        .load(conn)?)
}
