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
pub fn stale(what: &str) -> ApiError {
    ApiError::client(
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
        format!("If-Match does not name the {what}'s current version; read it again"),
    )
}

/// The version `If-Match` names. Exactly one strong entity tag is accepted: `*` would let a
/// client overwrite changes it has not seen, so it counts as no precondition (428); a weak tag,
/// a list or anything else that is not a version fails (412).
pub fn expected_version(headers: &HeaderMap, what: &str) -> ApiResult<i32> {
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
        return Err(required());
    }
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| stale(what))
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

    fn status(value: Option<&str>) -> Result<i32, u16> {
        expected_version(&with(value), "thing").map_err(|e| {
            use actix_web::ResponseError;
            e.status_code().as_u16()
        })
    }

    #[test]
    fn if_match_must_name_one_exact_version() {
        assert_eq!(status(Some("\"3\"")), Ok(3));
        assert_eq!(status(Some(" \"12\" ")), Ok(12));
        assert_eq!(status(None), Err(428));
        assert_eq!(status(Some("*")), Err(428));
        for bad in ["W/\"3\"", "3", "\"x\"", "\"1\", \"3\"", ""] {
            assert_eq!(status(Some(bad)), Err(412), "{bad}");
        }
        assert_eq!(etag(7), "\"7\"");
    }
}
