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

use crate::access_log::{record, Action, NewEntry};
use crate::at_rest::{self, Cipher, Place};
use crate::auth::Actor;
use crate::db::schema::idempotency_keys;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use sha2::{Digest, Sha256};

/// The SHA-256 of the body as read, kept on the request when it carries an `Idempotency-Key`
/// (a retry must send the same body to get the first answer).
#[derive(Clone, Copy)]
pub struct BodyDigest(pub [u8; 32]);

/// The request header naming a retry-safe request.
pub const HEADER: &str = "idempotency-key";
/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 128;

/// A request's key, scoped and hashed, with the hash of its body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    hash: [u8; 32],
    body: [u8; 32],
}

impl Key {
    /// The key of this request, if it sent one: 400 for a malformed key. Call after the body
    /// was read (its hash is taken then).
    pub fn of(req: &HttpRequest, actor: &Actor) -> ApiResult<Option<Self>> {
        let Some(raw) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = raw.to_str().ok().and_then(parse_key).ok_or_else(|| {
            ApiError::invalid_field(
                "Idempotency-Key",
                "must be 1 to 128 visible ASCII characters, bare or as a quoted string",
            )
        })?;
        let body = req
            .extensions()
            .get::<BodyDigest>()
            .map_or_else(|| Sha256::digest(b"").into(), |d| d.0);
        let mut hasher = Sha256::new();
        for part in [
            actor.sub.as_str(),
            req.method().as_str(),
            req.path(),
            key.as_str(),
        ] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        Ok(Some(Self {
            hash: hasher.finalize().into(),
            body,
        }))
    }

    fn lock_id(&self) -> i64 {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.hash[..8]);
        i64::from_be_bytes(first)
    }
}

/// A key as sent: bare visible ASCII, or an RFC 8941 sf-string (`"..."` with `\"` and `\\`).
fn parse_key(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let key = match raw.strip_prefix('"') {
        None => raw.to_owned(),
        Some(rest) => {
            let inner = rest.strip_suffix('"')?;
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next()? {
                        c @ ('"' | '\\') => out.push(c),
                        _ => return None,
                    },
                    '"' => return None,
                    c => out.push(c),
                }
            }
            out
        }
    };
    let visible = key.bytes().all(|b| (0x21..=0x7e).contains(&b));
    (visible && (1..=MAX_KEY_CHARS).contains(&key.len())).then_some(key)
}

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

/// Where a stored answer is sealed: the key's row.
fn body_at(key: &Key) -> Place<'_> {
    Place {
        table: "idempotency_keys",
        column: "body_enc",
        row: &key.hash,
    }
}

/// The cipher of a stored answer: the subject's data key when the answer is about one that has
/// a key (so that erasing the subject shreds it too), else the service-secrets key (answers
/// about no subject, and the erasure's own answer, stored once the key is gone).
fn cipher_for(conn: &mut PgConnection, subject: Option<uuid::Uuid>) -> ApiResult<Cipher> {
    if let Some(id) = subject {
        if let Some(key) = at_rest::subject_key(conn, id.into())? {
            return Ok(key);
        }
    }
    at_rest::store::service_cipher(conn, at_rest::store::ServiceKey::Secrets)
}

/// A stored answer holds personal values: sealed like them.
fn seal(
    conn: &mut PgConnection,
    key: &Key,
    subject: Option<uuid::Uuid>,
    body: &[u8],
) -> ApiResult<Vec<u8>> {
    Ok(cipher_for(conn, subject)?.seal(body_at(key), body))
}

fn open(
    conn: &mut PgConnection,
    key: &Key,
    subject: Option<uuid::Uuid>,
    sealed: &[u8],
) -> ApiResult<Option<Vec<u8>>> {
    Ok(cipher_for(conn, subject)?
        .open(body_at(key), sealed)
        .map(|plain| plain.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::parse_key;

    #[test]
    fn keys_are_visible_ascii_bare_or_quoted() {
        assert_eq!(parse_key("abc-123").as_deref(), Some("abc-123"));
        assert_eq!(parse_key("\"abc\"").as_deref(), Some("abc"));
        assert_eq!(parse_key(r#""a\"b\\c""#).as_deref(), Some(r#"a"b\c"#));
        assert_eq!(parse_key(&"k".repeat(128)).map(|k| k.len()), Some(128));
        for bad in [
            "",
            "\"\"",
            "a b",
            "\"a b\"",
            "\"abc",
            r#""a\nb""#,
            "ä",
            &"k".repeat(129),
        ] {
            assert_eq!(parse_key(bad), None, "{bad:?}");
        }
    }
}
