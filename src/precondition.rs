//! Optimistic concurrency: every single resource carries `ETag: "<version>"`, and a change must
//! name the version it was made against in `If-Match`.

use crate::error::{ApiError, ApiResult};
use actix_web::http::header::{HeaderMap, IF_MATCH};
use actix_web::http::StatusCode;

/// The entity tag of a version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// 412: the version named is not the current one.
fn stale(what: &str) -> ApiError {
    ApiError::client(
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
        format!("If-Match does not name the {what}'s current version; read it again"),
    )
}

/// What `If-Match` asks for: one version, or `*`, which matches any current version (RFC 9110
/// §13.1.1; a resource that no longer exists still answers 404 or 410). Compared with a version
/// (`row.version != expected`) it says whether the precondition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Version(i32),
    Any,
}

impl PartialEq<Expected> for i32 {
    fn eq(&self, expected: &Expected) -> bool {
        match expected {
            Expected::Version(v) => v == self,
            Expected::Any => true,
        }
    }
}

/// What `If-Match` names: exactly one strong entity tag, or `*`; none is 428, and a weak tag, a
/// list or anything else that is not a version fails (412).
fn expected_version(headers: &HeaderMap, what: &str) -> ApiResult<Expected> {
    let required = || {
        ApiError::client(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            format!("If-Match with the {what}'s ETag (such as \"3\") is required"),
        )
    };
    let value = headers
        .get(IF_MATCH)
        .ok_or_else(required)?
        .to_str()
        .map_err(|_| stale(what))?
        .trim();
    if value == "*" {
        return Ok(Expected::Any);
    }
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse().ok())
        .map(Expected::Version)
        .ok_or_else(|| stale(what))
}

/// A change made under `If-Match`, the one shape every versioned change takes: the header read
/// before the transaction (428 without it, 412 when it names no version), then, with the row
/// locked, [`IfMatch::check`] (412 unless the row is at the version named) and
/// [`IfMatch::bump`] (the version the change gives the row, its new `ETag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch {
    expected: Expected,
    what: &'static str,
}

impl IfMatch {
    /// What the request's `If-Match` names about `what` (the resource its problems name).
    pub fn of(headers: &HeaderMap, what: &'static str) -> ApiResult<Self> {
        Ok(Self {
            expected: expected_version(headers, what)?,
            what,
        })
    }

    /// 412 unless `current` (the locked row's version) is the one named.
    pub fn check(self, current: i32) -> ApiResult<()> {
        if current == self.expected {
            Ok(())
        } else {
            Err(self.stale())
        }
    }

    /// The 412 of this change, for a row found changed after the check (a conditional update
    /// that matched no row).
    pub fn stale(self) -> ApiError {
        stale(self.what)
    }

    /// [`IfMatch::check`], then the row's next version.
    pub fn bump(self, version: &mut i32) -> ApiResult<()> {
        self.check(*version)?;
        *version += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with(value: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(v) = value {
            headers.insert(IF_MATCH, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn status(value: Option<&str>) -> Result<Expected, u16> {
        expected_version(&with(value), "thing").map_err(|e| {
            use actix_web::ResponseError;
            e.status_code().as_u16()
        })
    }

    #[test]
    fn if_match_must_name_one_exact_version() {
        assert_eq!(status(Some("\"3\"")), Ok(Expected::Version(3)));
        assert_eq!(status(Some(" \"12\" ")), Ok(Expected::Version(12)));
        assert_eq!(status(None), Err(428));
        assert_eq!(status(Some("*")), Ok(Expected::Any));
        assert!(3 == Expected::Version(3) && 4 != Expected::Version(3) && 4 == Expected::Any);
        for bad in ["W/\"3\"", "3", "\"x\"", "\"1\", \"3\"", ""] {
            assert_eq!(status(Some(bad)), Err(412), "{bad}");
        }
        assert_eq!(etag(7), "\"7\"");
    }
}
