//! Purpose binding (contract v3, D): `X-Access-Purpose: activity:<uuid>` names the processing
//! activity a call serves. Under `PURPOSE_ENFORCEMENT=warn` or `strict`, a name that is no
//! activity is 400; a staff read naming no active activity is counted (`warn`) or refused with
//! 403 `activity-required` and logged `denied` (`strict`). The rule plugs into the access log's
//! scope check, the one place every audited call passes.
//!
//! Activities' statuses are cached for a second, so a read costs a map lookup, not a statement;
//! a change made by this process clears the cache at once, one made by another instance is seen
//! within the second.

use super::model;
use crate::access_log::purpose::{PurposeRule, Verdict};
use crate::access_log::Action;
use crate::auth::Actor;
use crate::caller::ACCESS_PURPOSE;
use crate::config::PurposeEnforcement;
use crate::db::Db;
use crate::domain::ids::ActivityId;
use crate::error::ApiError;
use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The prefix of a stated purpose that names an activity.
pub const PREFIX: &str = "activity:";
/// How long a looked-up status is trusted.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// Bumped by every change of an activity in this process: older cached statuses are dropped.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Drops every cached status (after a change of an activity).
pub fn forget_cached() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The rule for a setting; none when purposes stay free text.
pub fn rule(mode: PurposeEnforcement) -> Option<Arc<dyn PurposeRule>> {
    match mode {
        PurposeEnforcement::Off => None,
        strict_or_warn => Some(Arc::new(Binding {
            strict: strict_or_warn == PurposeEnforcement::Strict,
            cache: Mutex::default(),
        })),
    }
}

/// The activity a stated purpose names: `None` when it names none, `Some(Err)` when it starts
/// like a name but is no UUID.
pub fn named(purpose: Option<&str>) -> Option<Result<ActivityId, ()>> {
    let purpose = purpose?;
    let head = purpose.get(..PREFIX.len())?;
    if !head.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    Some(purpose[PREFIX.len()..].trim().parse().map_err(|_| ()))
}

/// Whether a caller is staff: neither a partner nor a person nor a link.
fn is_staff(actor: &Actor) -> bool {
    actor.recipient_id.is_none()
        && !["subject:", "link:", "system:"]
            .iter()
            .any(|p| actor.sub.starts_with(p))
}

/// A looked-up status: active or not, or no such activity; when, and in which generation.
type Looked = (Option<bool>, u64, Instant);

struct Binding {
    strict: bool,
    cache: Mutex<HashMap<ActivityId, Looked>>,
}

impl Binding {
    /// Whether the activity is active (`None`: no such activity), from the cache or the database.
    async fn status(&self, db: &Db, id: ActivityId) -> Result<Option<bool>, ApiError> {
        let generation = GENERATION.load(Ordering::Relaxed);
        if let Ok(cache) = self.cache.lock() {
            if let Some((status, g, at)) = cache.get(&id) {
                if *g == generation && at.elapsed() < FRESH_FOR {
                    return Ok(*status);
                }
            }
        }
        let status = db.run(move |conn| model::is_active(conn, id)).await?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(id, (status, generation, Instant::now()));
        }
        Ok(status)
    }

    async fn verdict(
        &self,
        db: &Db,
        actor: &Actor,
        action: Action,
        purpose: Option<&str>,
    ) -> Verdict {
        let names_nothing = || {
            Verdict::Invalid(ApiError::invalid_field(
                "X-Access-Purpose",
                "`activity:` must be followed by the id of a processing activity",
            ))
        };
        let bound = match named(purpose) {
            None => false,
            Some(Err(())) => return names_nothing(),
            Some(Ok(id)) => match self.status(db, id).await {
                Err(e) => return Verdict::Refuse(e),
                Ok(None) => return names_nothing(),
                Ok(Some(active)) => active,
            },
        };
        if bound || !action.is_read() || !is_staff(actor) {
            return Verdict::Serve;
        }
        if !self.strict {
            crate::metrics::record_unbound_read();
            return Verdict::Serve;
        }
        Verdict::Refuse(ApiError::client(
            StatusCode::FORBIDDEN,
            "activity-required",
            format!(
                "a read of personal data must name an active processing activity in \
                 {ACCESS_PURPOSE} (`activity:<id>`)"
            ),
        ))
    }
}

impl PurposeRule for Binding {
    fn judge<'a>(
        &'a self,
        db: &'a Db,
        actor: &'a Actor,
        action: Action,
        purpose: Option<&'a str>,
    ) -> LocalBoxFuture<'a, Verdict> {
        Box::pin(self.verdict(db, actor, action, purpose))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_prefix_names_an_activity() {
        let id = "0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8091";
        assert!(matches!(
            named(Some(&format!("activity:{id}"))),
            Some(Ok(_))
        ));
        assert!(matches!(
            named(Some(&format!("Activity:{id}"))),
            Some(Ok(_))
        ));
        assert!(matches!(named(Some("activity:nope")), Some(Err(()))));
        assert!(named(Some("client asked")).is_none());
        assert!(named(Some("act")).is_none());
        assert!(named(None).is_none());
    }
}
