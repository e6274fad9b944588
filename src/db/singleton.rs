//! Work that only one instance may do at a time, when several serve one database: the hash-chain
//! sealer, migrations, and (as their issues land) the retention run, the notice worker and the
//! checkpoint signer. Each is named by a PostgreSQL advisory lock, so no instance needs to know
//! the others; an instance that dies releases its locks with its connection.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

/// A job that runs in one instance at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Singleton {
    /// Applying migrations (`serve` at start-up, `migrate`).
    Migrations,
    /// Extending the access log's hash chain.
    Sealer,
    /// Removing idempotent answers past their 24 hours.
    IdempotencyPurge,
    /// A retention run (held on the session for the whole run).
    RetentionRun,
}

impl Singleton {
    /// The advisory lock's key: fixed forever, since instances of different versions may share
    /// one database during a rolling upgrade.
    pub fn key(self) -> i64 {
        match self {
            Singleton::Migrations => 0x706c_616e_7072_6f01,
            Singleton::Sealer => 0x706c_616e_7072_6f02,
            Singleton::IdempotencyPurge => 0x706c_616e_7072_6f03,
            Singleton::RetentionRun => 0x706c_616e_7072_6f04,
        }
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Takes the job for the current transaction if no other instance holds it; false when one does.
/// The lock ends with the transaction.
pub fn try_hold(conn: &mut PgConnection, job: Singleton) -> QueryResult<bool> {
    diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
        .bind::<BigInt, _>(job.key())
        .get_result::<Locked>(conn)
        .map(|l| l.locked)
}

/// Takes the job for the current transaction, waiting while another instance holds it.
pub fn hold(conn: &mut PgConnection, job: Singleton) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(job.key())
        .execute(conn)
        .map(|_| ())
}

/// Runs `work` holding the job on the session (for work that spans transactions, such as
/// migrations), waiting while another instance holds it.
pub fn exclusively<T, E: From<diesel::result::Error>>(
    conn: &mut PgConnection,
    job: Singleton,
    work: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<T, E> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(job.key())
        .execute(conn)?;
    let result = work(conn);
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(job.key())
        .execute(conn)?;
    result
}

/// Takes the job on the session (for work that spans many transactions) if no other instance
/// holds it; false when one does. Held until [`release`] or until the connection closes, so an
/// instance that dies mid-job frees it for another.
pub fn try_hold_session(conn: &mut PgConnection, job: Singleton) -> QueryResult<bool> {
    diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<BigInt, _>(job.key())
        .get_result::<Locked>(conn)
        .map(|l| l.locked)
}

/// Gives up a job taken with [`try_hold_session`].
pub fn release(conn: &mut PgConnection, job: Singleton) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(job.key())
        .execute(conn)
        .map(|_| ())
}
