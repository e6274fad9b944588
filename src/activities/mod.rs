//! The records of processing activities (Art. 30): activities with every version kept, the
//! signed register as of any date, the conformance report that checks the register against the
//! disclosure ledger and the access log, and the purpose binding of reads.

pub mod api;
pub mod binding;
pub mod conformance;
pub mod doc;
pub mod model;
pub mod register;
pub mod routes;
