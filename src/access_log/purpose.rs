//! The seam through which a resource binds calls to a stated purpose (`X-Access-Purpose`): a
//! rule installed at start-up, asked by the scope check of every audited call.

use super::Action;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::ApiError;
use futures_util::future::LocalBoxFuture;

/// What a purpose rule says of a call's stated purpose.
pub enum Verdict {
    /// Serve it.
    Serve,
    /// Refuse it: the error is answered and the attempt logged `denied`.
    Refuse(ApiError),
    /// The stated purpose itself is bad input (400): answered, not logged.
    Invalid(ApiError),
}

/// A rule that binds calls to a stated purpose (`X-Access-Purpose`), installed at start-up by
/// the resource that knows what a purpose may name. It is asked at the scope check of every
/// audited call, once the scope is granted.
pub trait PurposeRule: Send + Sync {
    /// Judges a call of `action` by `actor` stating `purpose`.
    fn judge<'a>(
        &'a self,
        db: &'a Db,
        actor: &'a Actor,
        action: Action,
        purpose: Option<&'a str>,
    ) -> LocalBoxFuture<'a, Verdict>;
}
