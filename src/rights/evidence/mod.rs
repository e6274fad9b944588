//! The evidence bundle (contract v3, section B): one zip with what happened to one person's data
//! and the proofs of it, checkable offline without trusting PlanPro — the data as exported, the
//! signed consent receipts, every access-log entry about the person with its inclusion proof
//! against one signed checkpoint, the verifier keys, and a manifest of every file's SHA-256
//! signed with the receipt key. `planpro-privacy verify-bundle` checks one with code of its own
//! (`crate::bundle_check`), not with this writer's.

pub mod archive;
pub mod contents;
mod erased;
pub mod routes;

/// The manifest's `format`.
pub const FORMAT: &str = "planpro-evidence/1";

/// The JWS `typ` of the manifest's signature.
pub const MANIFEST_TYP: &str = "evidence-manifest+jws";
