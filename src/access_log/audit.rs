//! The access log as handlers use it: scope checks that log a refusal, and read entries that
//! must be committed before any data goes out.

use super::{Action, NewEntry, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use uuid::Uuid;

impl AppState {
    /// Appends read entries through group commit; returns only once they are durable.
    pub async fn log_reads(&self, entries: Vec<NewEntry>) -> ApiResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.log_writer.append(entries).await
    }

    /// 403 (logged as a denied attempt on `subject`) unless the caller holds `scope`.
    pub async fn authorize(
        &self,
        caller: &Caller,
        scope: Scope,
        action: Action,
        subject: Option<Uuid>,
    ) -> ApiResult<()> {
        if caller.actor.has(scope) {
            return Ok(());
        }
        self.deny(
            caller,
            action,
            subject,
            ApiError::missing_scope(scope.as_str()),
        )
        .await
    }

    /// Logs a refused attempt, then fails with `error`. When even the log cannot be written the
    /// caller still gets the refusal: nothing is disclosed either way.
    pub async fn deny<T>(
        &self,
        caller: &Caller,
        action: Action,
        subject: Option<Uuid>,
        error: ApiError,
    ) -> ApiResult<T> {
        let entry = caller.entry(action, subject, Outcome::Denied);
        if let Err(e) = self.log_writer.append(vec![entry]).await {
            log::warn!("could not log a denied attempt: {e}");
        }
        Err(error)
    }
}
