//! Idempotent retries (IETF httpapi `Idempotency-Key`).

/// The request header naming a retry-safe request.
pub const HEADER: &str = "idempotency-key";
