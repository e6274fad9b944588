//! One integration-test binary: every test gets its own database and the real app.

mod consents;
mod harness;
mod ops;
