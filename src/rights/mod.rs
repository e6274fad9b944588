//! The data subject's rights that reach into every resource: the right of access (the export and
//! the complete Art. 15 response, `access_response/`, and the evidence bundle, `evidence/`),
//! erasure (Art. 17) and restriction of processing (Art. 18). `subjects/` stays the record every
//! resource imports; these orchestrate what each resource offers for its own tables (the consents'
//! withdrawals, the receipts, the disclosure authorizations' revocation, the holds' rule).

pub mod access_response;
pub mod api;
pub mod erasure;
pub mod erasure_set;
pub mod evidence;
pub mod export;
pub mod restriction;
pub mod routes;
