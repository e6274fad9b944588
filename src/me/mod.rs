//! The person's own view (contract v3, section A): `/v1/me` endpoints, called with a subject
//! token. The token's personal code is matched to a live record through the blind index; from
//! then on the caller is `subject:<id>` in every entry, and the code goes nowhere.

pub mod access_log;
pub mod consents;
pub mod entries;
pub mod proofs;
pub mod redact;
pub mod requests;
pub mod routes;

use crate::access_log::Action;
use crate::auth::subject::{SubjectLogin, UNKNOWN_SUBJECT};
use crate::caller::Caller;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use std::sync::Arc;

/// A text in Estonian, English and Russian: the person reads the one they chose.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Trilingual {
    pub et: String,
    pub en: String,
    pub ru: String,
}

impl Trilingual {
    /// The three texts.
    pub fn new(et: &str, en: &str, ru: &str) -> Self {
        Self {
            et: et.to_owned(),
            en: en.to_owned(),
            ru: ru.to_owned(),
        }
    }
}

/// The person a subject token belongs to, and the caller as their entries record it.
pub struct Me {
    pub id: SubjectId,
    pub caller: Caller,
    /// How they logged in: what their changes record as evidence.
    pub login: Arc<SubjectLogin>,
}

impl Me {
    /// Answers a call about the person. A refusal (4xx) that wrote no entry of its own is
    /// logged as a denied `action` about them, so that every call about the person leaves an
    /// entry; a 5xx is answered as it is (the log may be what failed).
    pub async fn settle(
        &self,
        state: &AppState,
        action: Action,
        answer: actix_web::Result<HttpResponse>,
    ) -> actix_web::Result<HttpResponse> {
        let error = match answer {
            Ok(response) => return Ok(response),
            Err(error) => error,
        };
        if error.as_response_error().status_code().is_client_error() {
            let entry =
                self.caller
                    .entry(action, Some(self.id), crate::access_log::Outcome::Denied);
            if let Err(e) = state.log_writer.append(vec![entry]).await {
                log::warn!("could not log a denied attempt: {e}");
            }
        }
        Err(error)
    }
}

/// Matches the caller's token to the person's record. A staff or partner token is 403 (it
/// lacks `self`), logged as a denied `action` about nobody; a code no live record has is 404 `no-record`, logged as a denied `action`
/// by `subject:unknown` about nobody.
pub async fn resolve(state: &AppState, mut caller: Caller, action: Action) -> ApiResult<Me> {
    let Some(login) = caller.actor.login.clone() else {
        let refusal = ApiError::missing_scope(crate::auth::subject::SELF_SCOPE);
        return state.deny(&caller, action, None, refusal).await;
    };
    let code = login.code().clone();
    let found = state
        .db
        .run(move |conn| crate::subjects::model::live_id_by_personal_code(conn, &code))
        .await?;
    let Some(id) = found else {
        caller.actor.sub = UNKNOWN_SUBJECT.to_owned();
        return state
            .deny(
                &caller,
                action,
                None,
                ApiError::client(
                    StatusCode::NOT_FOUND,
                    "no-record",
                    "PlanPro keeps no record about you",
                ),
            )
            .await;
    };
    caller.actor.sub = format!("subject:{id}");
    Ok(Me { id, caller, login })
}
