//! The access log as handlers use it: scope checks that log a refusal, the stated purpose judged
//! by the purpose rule installed at start-up, and read entries that must be committed before any
//! data goes out.

use super::purpose::Verdict;
use super::{Action, NewEntry, Outcome};
use crate::auth::Scope;
use crate::caller::Caller;
use crate::domain::ids::SubjectId;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

impl AppState {
    /// Appends read entries through group commit; returns only once they are durable.
    pub async fn log_reads(&self, entries: Vec<NewEntry>) -> ApiResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.log_writer.append(entries).await
    }

    /// 403 (logged as a denied attempt on `subject`) unless the caller holds `scope` and the
    /// purpose rule, if any, accepts the stated purpose.
    pub async fn authorize(
        &self,
        caller: &Caller,
        scope: Scope,
        action: Action,
        subject: Option<SubjectId>,
    ) -> ApiResult<()> {
        if !caller.actor.has(scope) {
            return self
                .deny(
                    caller,
                    action,
                    subject,
                    ApiError::missing_scope(scope.as_str()),
                )
                .await;
        }
        let Some(rule) = &self.purpose_rule else {
            return Ok(());
        };
        match rule
            .judge(&self.db, &caller.actor, action, caller.purpose.as_deref())
            .await
        {
            Verdict::Serve => Ok(()),
            Verdict::Invalid(error) => Err(error),
            Verdict::Refuse(error) => self.deny(caller, action, subject, error).await,
        }
    }

    /// Logs a refused attempt, then fails with `error`. When even the log cannot be written the
    /// caller still gets the refusal: nothing is disclosed either way.
    pub async fn deny<T>(
        &self,
        caller: &Caller,
        action: Action,
        subject: Option<SubjectId>,
        error: ApiError,
    ) -> ApiResult<T> {
        let entry = caller.entry(action, subject, Outcome::Denied);
        if let Err(e) = self.log_writer.append(vec![entry]).await {
            log::warn!("could not log a denied attempt: {e}");
        }
        Err(error)
    }
}
