//! One error type for the whole service, answered as `application/problem+json` (RFC 9457).

use crate::domain::ids::{HoldId, NoticeId, TaskId};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

mod challenge;
pub use challenge::NO_BEARER_TOKEN;

/// The base of every problem `type`; the last path segment names the problem.
pub const PROBLEM_BASE: &str = "https://planpro.ee/problems/";

/// Result type of every handler and model function.
pub type ApiResult<T> = Result<T, ApiError>;

/// One bad input field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name; nested fields are dotted (`address.country`), array items indexed (`subject_ids[3]`).
    pub field: String,
    /// What is wrong with it, in plain English.
    pub message: String,
}

impl FieldError {
    /// A field error with its message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; its last segment is a stable code such as `validation-failed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the problem kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Every bad input field, on validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// When the subject was erased, on `subject-erased` (410).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_micros"
    )]
    pub erased_at: Option<DateTime<Utc>>,
    /// The active hold that blocks an erasure, on `subject-on-hold` (409).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub hold_id: Option<HoldId>,
    /// The notices still without a recipient's outcome, on `recipients-unconfirmed` (409).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub notification_ids: Option<Vec<NoticeId>>,
    /// The tasks still open, on `tasks-open` (409).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub task_ids: Option<Vec<TaskId>>,
}

/// An instant as every answer writes one: UTC with `Z` and six decimals.
fn micros(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn optional_micros<S: serde::Serializer>(
    at: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&micros(at)),
        None => s.serialize_none(),
    }
}

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// 400 or 422 with the list of bad fields.
    Validation {
        status: StatusCode,
        errors: Vec<FieldError>,
    },
    /// Any other 4xx with a stable code (the `type`'s last segment) and a human detail.
    Client {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    /// 410 `subject-erased`: the subject was erased at this time.
    Erased(DateTime<Utc>),
    /// 409 `subject-on-hold`: this active hold blocks the erasure.
    OnHold(HoldId),
    /// 409 `recipients-unconfirmed`: these notices the request caused have no outcome yet.
    Unconfirmed(Vec<NoticeId>),
    /// 409 `tasks-open`: these tasks of the request are still open.
    TasksOpen(Vec<TaskId>),
    /// 401: no valid bearer token.
    Unauthorized(String),
    /// 401 `insufficient-user-authentication`: a person's login is below this level (RFC 9470).
    AcrTooLow(crate::domain::acr::Acr),
    /// 403 `insufficient-scope`: the token lacks this scope.
    MissingScope(&'static str),
    /// 503: the database (or the access log) cannot be reached now.
    Unavailable,
    /// 500: a bug. The cause is logged, never sent.
    Internal(String),
}

impl ApiError {
    /// 400 naming each bad field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self::Validation {
            status: StatusCode::BAD_REQUEST,
            errors,
        }
    }

    /// 400 naming one bad field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    /// A 4xx with a stable code.
    pub fn client(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Client {
            status,
            code,
            detail: detail.into(),
        }
    }

    /// 404 for the named kind of resource.
    pub fn not_found(what: &str) -> Self {
        Self::client(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{what} not found"),
        )
    }

    /// 409 with a detail.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 403 for a token that lacks the scope.
    pub fn missing_scope(scope: &'static str) -> Self {
        Self::MissingScope(scope)
    }

    /// 500, logging the cause here so that it never reaches the client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let (code, detail, errors) = match self {
            Self::Validation { errors, .. } => (
                "validation-failed",
                match errors.len() {
                    1 => "1 field is invalid".to_owned(),
                    n => format!("{n} fields are invalid"),
                },
                errors.clone(),
            ),
            Self::Client { code, detail, .. } => (*code, detail.clone(), Vec::new()),
            Self::Erased(at) => (
                "subject-erased",
                format!("the subject was erased at {}", micros(at)),
                Vec::new(),
            ),
            Self::OnHold(hold) => (
                "subject-on-hold",
                format!("the active hold {hold} requires the subject's data to be kept"),
                Vec::new(),
            ),
            Self::Unconfirmed(ids) => (
                "recipients-unconfirmed",
                format!(
                    "{} notice(s) this request caused have no recipient's outcome yet \
                     (`notification_ids`); close with an `override_reason` to close anyway",
                    ids.len()
                ),
                Vec::new(),
            ),
            Self::TasksOpen(ids) => (
                "tasks-open",
                format!(
                    "{} task(s) of this request are open (`task_ids`); close them, or close \
                     with an `override_reason`",
                    ids.len()
                ),
                Vec::new(),
            ),
            Self::Unauthorized(detail) => ("unauthorized", detail.clone(), Vec::new()),
            Self::AcrTooLow(min) => (
                "insufficient-user-authentication",
                format!(
                    "the login's level of assurance (`acr`) must be at least `{}`: log in again \
                     with a stronger means",
                    min.as_str()
                ),
                Vec::new(),
            ),
            Self::MissingScope(scope) => (
                "insufficient-scope",
                format!("the token lacks the scope `{scope}`"),
                Vec::new(),
            ),
            Self::Unavailable => (
                "service-unavailable",
                "the database is unavailable; try again shortly".to_owned(),
                Vec::new(),
            ),
            Self::Internal(_) => (
                "internal-error",
                "an unexpected error occurred".to_owned(),
                Vec::new(),
            ),
        };
        Problem {
            kind: format!("{PROBLEM_BASE}{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            erased_at: match self {
                Self::Erased(at) => Some(*at),
                _ => None,
            },
            hold_id: match self {
                Self::OnHold(hold) => Some(*hold),
                _ => None,
            },
            notification_ids: match self {
                Self::Unconfirmed(ids) => Some(ids.clone()),
                _ => None,
            },
            task_ids: match self {
                Self::TasksOpen(ids) => Some(ids.clone()),
                _ => None,
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.problem().detail)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation { status, .. } | Self::Client { status, .. } => *status,
            Self::Erased(_) => StatusCode::GONE,
            Self::OnHold(_) | Self::Unconfirmed(_) | Self::TasksOpen(_) => StatusCode::CONFLICT,
            Self::Unauthorized(_) | Self::AcrTooLow(_) => StatusCode::UNAUTHORIZED,
            Self::MissingScope(_) => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            log::error!("internal error: {cause}");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            Self::Unauthorized(detail) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, challenge::invalid_token(detail)));
            }
            Self::AcrTooLow(min) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    challenge::insufficient_user_authentication(min.as_str()),
                ));
            }
            Self::MissingScope(scope) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    challenge::insufficient_scope(scope),
                ));
            }
            Self::Unavailable => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        let body = serde_json::to_string(&self.problem()).unwrap_or_default();
        response.body(body)
    }
}

/// True when a database error means the server is gone rather than the query being wrong.
pub fn is_connection_loss(kind: &DatabaseErrorKind, message: &str) -> bool {
    matches!(kind, DatabaseErrorKind::ClosedConnection)
        || [
            "terminating connection",
            "server closed the connection",
            "could not connect",
            "connection refused",
            // 57P03 (starting up, shutting down, not yet accepting connections, in recovery)
            "the database system is",
            "during recovery",
            "recovery is in progress",
            "no connection to the server",
            "SSL SYSCALL",
            "could not receive data",
            "could not send data",
        ]
        .iter()
        .any(|needle| message.contains(needle))
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        crate::metrics::record_db_error();
        match &error {
            DieselError::NotFound => Self::not_found("resource"),
            DieselError::DatabaseError(kind, info) if is_connection_loss(kind, info.message()) => {
                log::warn!("database connection lost: {}", info.message());
                Self::Unavailable
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::Unavailable
            }
            // A standby, or a primary being demoted or made read-only (25006): the client
            // retries, with the same Idempotency-Key, once a primary takes writes again.
            DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, info) => {
                log::warn!("the database refuses writes: {}", info.message());
                Self::Unavailable
            }
            _ => Self::internal(format!("database error: {error}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        crate::metrics::record_db_error();
        log::warn!("database pool: {error}");
        Self::Unavailable
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::internal(error)
    }
}
