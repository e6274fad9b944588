//! Database access: a bounded r2d2 pool of synchronous diesel connections, used from handlers
//! through [`Db::run`] / [`Db::transaction`] on actix's blocking thread pool, and the migrations.

pub mod embedded;
pub mod schema;

use crate::error::{ApiError, ApiResult};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

/// Every migration in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// An arbitrary constant naming the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x706c_616e_7072_6f01;

/// A pooled connection.
pub type Conn = PooledConnection<ConnectionManager<PgConnection>>;

/// The connection pool shared by all workers.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<PgConnection>>,
}

/// Adds a connect timeout to a URL that has none, so that a dead server fails fast.
pub fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout=2")
}

impl Db {
    /// A lazily filled pool: the service starts even when the database is down and recovers when
    /// it returns; a checkout waits at most `timeout`, then the request gets a 503.
    pub fn new(url: &str, size: u32, timeout: Duration) -> Self {
        let manager = ConnectionManager::<PgConnection>::new(with_connect_timeout(url));
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .connection_timeout(timeout)
            .test_on_check_out(true)
            .build_unchecked(manager);
        Self { pool }
    }

    /// A connection now, or 503 within the pool timeout.
    pub fn get(&self) -> ApiResult<Conn> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking database work off the async workers.
    pub async fn run<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut PgConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// Runs blocking work in one transaction: everything commits together or not at all.
    pub async fn transaction<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut PgConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| conn.transaction(work)).await
    }

    /// (open connections, idle connections, maximum size) for the metrics.
    pub fn usage(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }
}

/// Applies pending migrations while holding a Postgres advisory lock, so that several instances
/// starting at once migrate exactly once.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let applied = conn.run_pending_migrations(MIGRATIONS).map(|v| v.len());
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
    applied
}

/// True when every embedded migration has been applied.
pub fn migrations_current(conn: &mut PgConnection) -> bool {
    matches!(conn.has_pending_migration(MIGRATIONS), Ok(false))
}

/// Connects once, directly (start-up and tooling).
pub fn connect(url: &str) -> ApiResult<PgConnection> {
    PgConnection::establish(&with_connect_timeout(url)).map_err(|e| {
        log::warn!("cannot connect to the database: {e}");
        ApiError::Unavailable
    })
}
