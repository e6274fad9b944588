//! The person's own view (contract v3, section A): `/v1/me` endpoints, called with a subject
//! token. The token's personal code is matched to a live record through the blind index; from
//! then on the caller is `subject:<id>` in every entry, and the code goes nowhere.

pub mod routes;

use crate::access_log::Action;
use crate::auth::subject::UNKNOWN_SUBJECT;
use crate::caller::Caller;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::http::StatusCode;

/// The person a subject token belongs to, and the caller as their entries record it.
pub struct Me {
    pub id: SubjectId,
    pub caller: Caller,
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
    Ok(Me { id, caller })
}
