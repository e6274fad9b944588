//! The problem responses many operations share, as named sets for their OpenAPI annotations:
//! a handler lists its success response, what is particular to it, and these sets, e.g.
//! `responses((status = 200, ...), Auth<SubjectsRead>, NoSubject, LogUnavailable)`.
//!
//! They are written by hand rather than derived because the 403 names the scope a handler needs,
//! which a derived set cannot take as a parameter.

use crate::auth::Scope;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

/// One problem+json response: the shape [`crate::error::Problem`], under `description`.
fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

fn set(responses: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    responses
        .iter()
        .map(|(status, description)| ((*status).to_owned(), problem(description)))
        .collect()
}

/// A scope an operation needs, as a type: the parameter of [`Auth`].
pub trait NeedsScope {
    /// The scope.
    const SCOPE: Scope;
}

macro_rules! scope_markers {
    ($($name:ident),+ $(,)?) => {
        $(
            #[doc = concat!("The `", stringify!($name), "` scope, for [`Auth`].")]
            pub struct $name;

            impl NeedsScope for $name {
                const SCOPE: Scope = Scope::$name;
            }
        )+
    };
}

scope_markers!(
    SubjectsRead,
    SubjectsWrite,
    ConsentsRead,
    ConsentsWrite,
    RecipientsRead,
    RecipientsWrite,
    DisclosuresRead,
    DisclosuresWrite,
    AccessLogsRead,
    RequestsRead,
    RequestsWrite,
    NotificationsRead,
    NotificationsWrite,
    SubjectsErase,
    RetentionRead,
    RetentionWrite,
    RopaRead,
    RopaWrite,
    BreachesRead,
    BreachesWrite,
);

/// 401 without a valid bearer token, 403 when it lacks the scope `S`.
pub struct Auth<S>(PhantomData<S>);

impl<S: NeedsScope> IntoResponses for Auth<S> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = Bearer::responses();
        let lacks = format!("The token lacks `{}`", S::SCOPE.as_str());
        responses.insert("403".to_owned(), problem(&lacks));
        responses
    }
}

/// 401 without a valid bearer token (for operations whose 403 is their own).
pub struct Bearer;

impl IntoResponses for Bearer {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[("401", "No valid bearer token")])
    }
}

/// What every `/v1/me` operation may answer about its token and the person: 401 (no valid token,
/// or a login below `SUBJECT_MIN_ACR`), 403 (a staff or partner token), 404 `no-record`.
pub struct Person;

impl IntoResponses for Person {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            (
                "401",
                "No valid bearer token, or a person's login below `SUBJECT_MIN_ACR` \
                 (`insufficient-user-authentication`, with `WWW-Authenticate: Bearer \
                 error=\"insufficient_user_authentication\", acr_values=...`, RFC 9470)",
            ),
            (
                "403",
                "Not a person's own token (staff and partner tokens lack `self`)",
            ),
            (
                "404",
                "No live record has the person's code (`no-record`); an erased person's code \
                 is not kept, so it is answered the same",
            ),
        ])
    }
}

/// 400 for a path id that is not a UUID.
pub struct BadId;

impl IntoResponses for BadId {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[("400", "The id is not a UUID")])
    }
}

/// What a path naming a subject answers when there is none (404) or it was erased (410
/// `subject-erased`, with `erased_at`).
pub struct NoSubject;

impl IntoResponses for NoSubject {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            ("404", "No such subject"),
            (
                "410",
                "The subject was erased (`subject-erased`; `erased_at` says when)",
            ),
        ])
    }
}

/// 413 and 415 for a JSON body that is too large or not JSON.
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            ("413", "The body is too large"),
            ("415", "The body is not JSON"),
        ])
    }
}

/// 412 and 428 for a change that needs `If-Match`.
pub struct Precondition;

impl IntoResponses for Precondition {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            ("412", "`If-Match` does not name the current version"),
            ("428", "`If-Match` is missing"),
        ])
    }
}

/// 503 when the database cannot be reached (the change and its access-log entry commit together).
pub struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[("503", "The database is unavailable")])
    }
}

/// 503 for a read whose access-log entry cannot be committed: no data goes out.
pub struct LogUnavailable;

impl IntoResponses for LogUnavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[("503", "The database or the access log is unavailable")])
    }
}
