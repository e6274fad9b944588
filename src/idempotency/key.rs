//! The `Idempotency-Key` header's syntax and what a key is scoped to: the actor, the method, the
//! path and the key as sent, hashed, with the hash of the body.

use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use actix_web::{HttpMessage, HttpRequest};
use sha2::{Digest, Sha256};

/// The SHA-256 of the body as read, kept on the request when it carries an `Idempotency-Key`
/// (a retry must send the same body to get the first answer).
#[derive(Clone, Copy)]
pub struct BodyDigest(pub [u8; 32]);

/// The request header naming a retry-safe request.
pub const HEADER: &str = "idempotency-key";
/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 128;

/// A request's key, scoped and hashed, with the hash of its body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The scoped key's hash (actor, method, path, key).
    pub(super) hash: [u8; 32],
    /// The body's hash.
    pub(super) body: [u8; 32],
}

impl Key {
    /// The key of this request, if it sent one: 400 for a malformed key. Call after the body
    /// was read (its hash is taken then).
    pub fn of(req: &HttpRequest, actor: &Actor) -> ApiResult<Option<Self>> {
        let Some(raw) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = raw.to_str().ok().and_then(parse_key).ok_or_else(|| {
            ApiError::invalid_field(
                "Idempotency-Key",
                "must be 1 to 128 visible ASCII characters, bare or as a quoted string",
            )
        })?;
        let body = req
            .extensions()
            .get::<BodyDigest>()
            .map_or_else(|| Sha256::digest(b"").into(), |d| d.0);
        let mut hasher = Sha256::new();
        for part in [
            actor.sub.as_str(),
            req.method().as_str(),
            req.path(),
            key.as_str(),
        ] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        Ok(Some(Self {
            hash: hasher.finalize().into(),
            body,
        }))
    }

    /// The advisory lock a request holds on its key while it runs.
    pub(super) fn lock_id(&self) -> i64 {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.hash[..8]);
        i64::from_be_bytes(first)
    }
}

/// A key as sent: bare visible ASCII, or an RFC 8941 sf-string (`"..."` with `\"` and `\\`).
fn parse_key(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let key = match raw.strip_prefix('"') {
        None => raw.to_owned(),
        Some(rest) => {
            let inner = rest.strip_suffix('"')?;
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next()? {
                        c @ ('"' | '\\') => out.push(c),
                        _ => return None,
                    },
                    '"' => return None,
                    c => out.push(c),
                }
            }
            out
        }
    };
    let visible = key.bytes().all(|b| (0x21..=0x7e).contains(&b));
    (visible && (1..=MAX_KEY_CHARS).contains(&key.len())).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::parse_key;

    #[test]
    fn keys_are_visible_ascii_bare_or_quoted() {
        assert_eq!(parse_key("abc-123").as_deref(), Some("abc-123"));
        assert_eq!(parse_key("\"abc\"").as_deref(), Some("abc"));
        assert_eq!(parse_key(r#""a\"b\\c""#).as_deref(), Some(r#"a"b\c"#));
        assert_eq!(parse_key(&"k".repeat(128)).map(|k| k.len()), Some(128));
        for bad in [
            "",
            "\"\"",
            "a b",
            "\"a b\"",
            "\"abc",
            r#""a\nb""#,
            "ä",
            &"k".repeat(129),
        ] {
            assert_eq!(parse_key(bad), None, "{bad:?}");
        }
    }
}
