//! Idempotent retries (IETF httpapi `Idempotency-Key`): a client that lost the answer to a
//! `POST`, `PUT` or `PATCH` sends it again with the same key and gets the first answer, and the
//! change is not made twice.
//!
//! Keys are scoped to the actor, method and path. The first request holds a transaction-scoped
//! advisory lock on its key while it runs (a second one meanwhile gets 409
//! `idempotency-key-in-use`) and stores its answer in its own transaction, so a committed change
//! and its stored answer cannot part; an answer that is not a 2xx is never stored. A replay
//! writes one access-log entry like the original's and changes nothing else. Without a key none
//! of this costs a statement.

pub mod expiry;
mod key;
mod sealing;

pub use key::{BodyDigest, Key, HEADER, MAX_KEY_CHARS};
use sealing::{open, seal};

use crate::access_log::{record, Action, NewEntry};
use crate::db::schema::idempotency_keys;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

/// An answer as a handler gives it and a replay repeats it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub location: Option<String>,
    pub etag: Option<String>,
    replayed: bool,
    /// What a replay repeats when it differs from the first answer: one-time secrets withheld.
    kept: Option<Vec<u8>>,
}

impl Answer {
    /// A JSON answer.
    pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> ApiResult<Self> {
        Ok(Self {
            status,
            body: serde_json::to_vec(value).map_err(ApiError::internal)?,
            location: None,
            etag: None,
            replayed: false,
            kept: None,
        })
    }

    /// The same answer, of which a replay repeats `withheld` instead: the first answer alone
    /// carries a one-time secret, and the secret is never stored.
    pub fn replayed_as<T: serde::Serialize>(mut self, withheld: &T) -> ApiResult<Self> {
        self.kept = Some(serde_json::to_vec(withheld).map_err(ApiError::internal)?);
        Ok(self)
    }

    /// The same answer with a `Location`.
    pub fn location(mut self, location: String) -> Self {
        self.location = Some(location);
        self
    }

    /// The same answer with an `ETag`.
    pub fn etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }

    /// The HTTP response.
    pub fn respond(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/json");
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        if let Some(etag) = self.etag {
            response.insert_header((header::ETAG, etag));
        }
        if self.replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        response.body(self.body)
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(Queryable)]
struct Stored {
    body_hash: Vec<u8>,
    status: i16,
    body: Vec<u8>,
    location: Option<String>,
    etag: Option<String>,
    entry_action: Option<String>,
    entry_subject_id: Option<uuid::Uuid>,
}

/// The shape every change with an `Idempotency-Key` ends with, named once: `change` (which
/// makes the change and records its entry) runs in one transaction under `key`, and the answer is
/// what it answered, or the stored answer of the request `key` repeats (logged like `entry`).
pub async fn commit<F>(
    db: &crate::db::Db,
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

/// Runs `work` (which makes the change and writes `entry`) in the caller's transaction, unless
/// `key` names a request already answered: then that answer is repeated, with one entry like
/// `entry` about the original's subject.
pub fn run(
    conn: &mut PgConnection,
    key: Option<&Key>,
    entry: Option<&NewEntry>,
    work: impl FnOnce(&mut PgConnection) -> ApiResult<Answer>,
) -> ApiResult<Answer> {
    let Some(key) = key else {
        return work(conn);
    };
    if let Some(answer) = claim(conn, key, entry)? {
        return Ok(answer);
    }
    let answer = work(conn)?;
    store(conn, key, entry, &answer)?;
    Ok(answer)
}

/// Takes the key for this transaction: the stored answer when there is one (its entry written),
/// `None` when the request is new; 409 while another holds the key, 422 for another body.
pub fn claim(
    conn: &mut PgConnection,
    key: &Key,
    entry: Option<&NewEntry>,
) -> ApiResult<Option<Answer>> {
    let got: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
        .bind::<BigInt, _>(key.lock_id())
        .get_result(conn)?;
    if !got.locked {
        return Err(in_use());
    }
    let since = chrono::Utc::now() - EXPIRY;
    let stored: Option<Stored> = idempotency_keys::table
        .filter(idempotency_keys::key_hash.eq(&key.hash[..]))
        .filter(idempotency_keys::created_at.gt(since))
        .select((
            idempotency_keys::body_hash,
            idempotency_keys::status,
            idempotency_keys::body_enc,
            idempotency_keys::location,
            idempotency_keys::etag,
            idempotency_keys::entry_action,
            idempotency_keys::entry_subject_id,
        ))
        .first(conn)
        .optional()?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    if stored.body_hash != key.body {
        return Err(ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "this Idempotency-Key was used with another body",
        ));
    }
    // An answer sealed under a subject's key that erasure has destroyed since no longer opens.
    // Running the request anew would bring the erased person back (a create would insert every
    // erased value again), so the subject's standing answers: 410 for an erased one.
    let Some(body) = open(conn, key, stored.entry_subject_id, &stored.body)? else {
        return Err(unopenable(conn, stored.entry_subject_id));
    };
    // A stored answer about an erased subject holds its former values: it is not repeated. The
    // erasure's own answer (an id and a time) is.
    if let Some(subject) = stored.entry_subject_id {
        let erase = stored.entry_action.as_deref() == Some(Action::SubjectErase.as_str());
        if !erase {
            subject_check()?(conn, SubjectId(subject))?;
        }
    }
    if let (Some(entry), Some(action)) = (entry, stored.entry_action) {
        let mut again = entry.clone();
        again.id = uuid::Uuid::now_v7();
        again.action = action;
        again.subject_id = stored.entry_subject_id;
        record(conn, &[again])?;
    }
    Ok(Some(Answer {
        status: StatusCode::from_u16(u16::try_from(stored.status).unwrap_or(200))
            .map_err(ApiError::internal)?,
        body,
        location: stored.location,
        etag: stored.etag,
        replayed: true,
        kept: None,
    }))
}

/// Whether a subject may still be answered about (404 for none, 410 for an erased one).
pub type SubjectCheck = fn(&mut PgConnection, SubjectId) -> ApiResult<()>;

static SUBJECT_CHECK: std::sync::OnceLock<SubjectCheck> = std::sync::OnceLock::new();

/// Registers the subjects' existence check, asked before a stored answer about a subject is
/// repeated (the mechanism names no resource; the subjects plug in at start-up).
pub fn check_subjects_with(check: SubjectCheck) {
    let _ = SUBJECT_CHECK.set(check);
}

/// The registered check; without one no answer about a subject is repeated.
fn subject_check() -> ApiResult<SubjectCheck> {
    SUBJECT_CHECK
        .get()
        .copied()
        .ok_or_else(|| ApiError::internal("no subject check registered for idempotent replays"))
}

/// Why a stored answer does not open: its subject's standing (404, 410 `subject-erased`), else
/// a fault of the service's keys, never a reason to make the change a second time.
fn unopenable(conn: &mut PgConnection, subject: Option<uuid::Uuid>) -> ApiError {
    if let Some(subject) = subject {
        if let Err(standing) = subject_check().and_then(|check| check(conn, SubjectId(subject))) {
            return standing;
        }
    }
    ApiError::internal("a stored idempotent answer does not open under its key")
}

/// 409: a request with the key is still in flight.
pub fn in_use() -> ApiError {
    ApiError::client(
        StatusCode::CONFLICT,
        "idempotency-key-in-use",
        "a request with this Idempotency-Key is still in progress; retry later",
    )
}

/// Keeps a 2xx answer under the key, in the transaction that made the change.
pub fn store(
    conn: &mut PgConnection,
    key: &Key,
    entry: Option<&NewEntry>,
    answer: &Answer,
) -> ApiResult<()> {
    if !answer.status.is_success() {
        return Ok(());
    }
    let row = (
        idempotency_keys::key_hash.eq(&key.hash[..]),
        idempotency_keys::body_hash.eq(&key.body[..]),
        idempotency_keys::status.eq(i16::try_from(answer.status.as_u16()).unwrap_or(200)),
        idempotency_keys::body_enc.eq(seal(
            conn,
            key,
            entry.and_then(|e| e.subject_id),
            answer.kept.as_ref().unwrap_or(&answer.body),
        )?),
        idempotency_keys::location.eq(answer.location.as_deref()),
        idempotency_keys::etag.eq(answer.etag.as_deref()),
        idempotency_keys::entry_action.eq(entry.map(|e| e.action.as_str())),
        idempotency_keys::entry_subject_id.eq(entry.and_then(|e| e.subject_id)),
        idempotency_keys::created_at.eq(chrono::Utc::now()),
    );
    // An expired row under the same key is replaced.
    diesel::insert_into(idempotency_keys::table)
        .values(row.clone())
        .on_conflict(idempotency_keys::key_hash)
        .do_update()
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Removes answers past their 24 hours.
pub fn purge(conn: &mut PgConnection) -> ApiResult<usize> {
    let since = chrono::Utc::now() - EXPIRY;
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.le(since)))
            .execute(conn)?,
    )
}

/// How long an answer is kept.
const EXPIRY: chrono::TimeDelta = chrono::TimeDelta::hours(24);
