//! The subject a path names (`/v1/subjects/{id}/...`, `/v1/partner/subjects/{id}`): its id,
//! typed, and the one check that it exists. Every handler under a subject path takes a
//! [`SubjectPath`], so the answer for an id that is no subject is decided here alone: 404 for
//! none, 410 `subject-erased` (with `erased_at`) for an erased one (see also
//! [`crate::responses::NoSubject`]).

use super::model::Lock;
use super::standing::{self, Standing};
use crate::access_log::{Action, NewEntry, Outcome};
use crate::auth::Scope;
use crate::body::BodyAfterAuth;
use crate::caller::Caller;
use crate::domain::ids::SubjectId;
use crate::domain::restriction::RestrictionGround;
use crate::error::{ApiError, ApiResult};
use crate::extract::{path_segment_error, Validate};
use crate::idempotency;
use crate::pagination::{Page, Params};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use diesel::PgConnection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::{ready, Ready};
use utoipa::ToSchema;
use uuid::Uuid;

/// The `{id}` segment of a subject path: 400 naming `id` when it is not a UUID.
///
/// It does not look the subject up: that happens after the scope check (so that a caller
/// without the scope learns nothing, not even whether the subject exists) and inside the
/// transaction that uses the subject, through [`SubjectPath::check`].
#[derive(Debug, Clone, Copy)]
pub struct SubjectPath(SubjectId);

impl SubjectPath {
    /// The subject's id, whether or not such a subject exists.
    pub fn id(self) -> SubjectId {
        self.0
    }

    /// How every write about the subject starts: the scope checked (a refusal logged) before a
    /// byte of the body is read, then the body and the caller's idempotency key, if any.
    pub async fn authorized_write<T>(
        self,
        state: &AppState,
        caller: &Caller,
        req: &HttpRequest,
        (scope, action): (Scope, Action),
        body: BodyAfterAuth<T>,
    ) -> actix_web::Result<(SubjectId, T, Option<idempotency::Key>)>
    where
        T: DeserializeOwned + ToSchema + Validate,
    {
        state.authorize(caller, scope, action, Some(self.0)).await?;
        let body = body.read().await?;
        let key = idempotency::Key::of(req, &caller.actor)?;
        Ok((self.0, body, key))
    }

    /// A write about the subject that is one change: authorized as
    /// [`SubjectPath::authorized_write`], then `change` (given the subject, the body and the
    /// write's entry, which it records) in one transaction under the caller's idempotency key.
    pub async fn write_step<T>(
        self,
        state: &AppState,
        caller: &Caller,
        req: &HttpRequest,
        (scope, action): (Scope, Action),
        body: BodyAfterAuth<T>,
        change: impl FnOnce(&mut PgConnection, SubjectId, T, NewEntry) -> ApiResult<idempotency::Answer>
            + Send
            + 'static,
    ) -> actix_web::Result<HttpResponse>
    where
        T: DeserializeOwned + ToSchema + Validate + Send + 'static,
    {
        let (id, body, key) = self
            .authorized_write(state, caller, req, (scope, action), body)
            .await?;
        let entry = caller.entry(action, Some(id), Outcome::Allowed);
        let answer = idempotency::commit(&state.db, key, Some(entry.clone()), move |conn| {
            change(conn, id, body, entry)
        });
        Ok(answer.await?)
    }

    /// How every list about the subject reads (the audited list read): the scope checked (a
    /// refusal logged), the query's parameters (`limit`, then what `parse` takes; every bad or
    /// unknown one named in one 400), then in one database call the subject's standing (404,
    /// 410) and `load`'s items (given the parsed query and `limit + 1`, to see whether a next
    /// page exists), and the read's entry committed before the page, keyed by `cursor_of`, goes
    /// out.
    #[expect(
        clippy::too_many_arguments,
        reason = "each is a part of the read the caller names"
    )]
    pub async fn read_page<Q, T>(
        self,
        state: &AppState,
        caller: &Caller,
        (scope, action): (Scope, Action),
        query: HashMap<String, String>,
        parse: impl FnOnce(&mut Params) -> Q,
        load: impl FnOnce(&mut PgConnection, SubjectId, Q, i64) -> ApiResult<Vec<T>> + Send + 'static,
        cursor_of: impl Fn(&T) -> String,
    ) -> ApiResult<HttpResponse>
    where
        Q: Send + 'static,
        T: Serialize + Send + 'static,
    {
        let id = self.0;
        state.authorize(caller, scope, action, Some(id)).await?;
        let mut params = Params::new(query);
        let limit = params.limit();
        let parsed = parse(&mut params);
        params.finish()?;
        let items = state
            .db
            .run(move |conn| {
                self.check(conn)?;
                load(conn, id, parsed, limit + 1)
            })
            .await?;
        state
            .log_reads(vec![caller.entry(action, Some(id), Outcome::Allowed)])
            .await?;
        Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, cursor_of)))
    }

    /// The id, once the subject is known to exist and not to be erased: 404 or 410 otherwise.
    pub fn check(self, conn: &mut PgConnection) -> ApiResult<SubjectId> {
        require(conn, self.0)
    }

    /// [`SubjectPath::check`] for a change about the subject: the row stays key-share locked
    /// until the transaction ends, so an erasure or restriction waits for the change (and a
    /// change that waited for one sees it). Answers the restriction in force, if any.
    pub fn lock(self, conn: &mut PgConnection) -> ApiResult<Option<RestrictionGround>> {
        lock(conn, self.0, Lock::KeyShare)
    }
}

/// The one existence check of a subject, wherever its id comes from (a path, or a body such as
/// a privacy request's `subject_id`): the id, or 404 for none and 410 for an erased one.
pub fn require(conn: &mut PgConnection, id: SubjectId) -> ApiResult<SubjectId> {
    lock(conn, id, Lock::None).map(|_| id)
}

/// The existence check taking `lock` on the subject's row: 404, 410, or the restriction in force
/// (the rule is [`Standing::require`]).
pub fn lock(
    conn: &mut PgConnection,
    id: SubjectId,
    lock: Lock,
) -> ApiResult<Option<RestrictionGround>> {
    Standing::read(conn, id, lock)?.require()
}

/// The answer for a subject path naming no subject.
pub fn not_found() -> ApiError {
    standing::unknown()
}

impl FromRequest for SubjectPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.match_info().get("id").unwrap_or_default();
        // Through serde, so that the message is the one any other UUID in a path gets.
        let parsed = Uuid::deserialize(
            serde::de::value::StrDeserializer::<serde::de::value::Error>::new(raw),
        );
        ready(
            parsed
                .map(|id| Self(SubjectId(id)))
                .map_err(|e| path_segment_error("id", &e.to_string())),
        )
    }
}
