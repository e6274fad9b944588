//! Database access: a bounded r2d2 pool of synchronous diesel connections, used from handlers
//! through [`Db::run`] / [`Db::transaction`] on actix's blocking thread pool, and the migrations.
//!
//! A hung database must not hang requests: each request has one deadline for all its database
//! work, pool wait included ([`with_deadline`], set by the request middleware), after which it
//! answers 503 while the blocked thread is left to finish; a transaction whose caller has been
//! answered rolls back instead of committing. A commit that waits for a synchronous standby past
//! the deadline is never cut short: PostgreSQL turns `statement_timeout` off before it commits,
//! and the service sends no cancel, so the caller gets its 503 while the commit goes on waiting,
//! invisible to the sealer until the standby holds it (a retry with the same `Idempotency-Key`
//! then answers as a replay). A cancelled wait would keep a local-only commit. Serving connections also carry a server-side
//! statement timeout and TCP keepalive limits ([`serving_url`]).

pub mod after_commit;
pub mod embedded;
pub mod schema;
pub mod singleton;
pub mod stream;

use crate::error::{ApiError, ApiResult};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

tokio::task_local! {
    /// When the current request's database work must be done.
    static DEADLINE: std::cell::Cell<Instant>;
}

/// Runs `work` (a request's handling) with one deadline for all its database work.
pub async fn with_deadline<F: std::future::Future>(deadline: Instant, work: F) -> F::Output {
    DEADLINE.scope(std::cell::Cell::new(deadline), work).await
}

/// The current request's deadline, if any.
pub fn current_deadline() -> Option<Instant> {
    DEADLINE.try_with(std::cell::Cell::get).ok()
}

/// Starts the current request's deadline again once its body has arrived: the body has a
/// deadline of its own, and the database work only begins then.
pub fn restart_deadline(budget: Duration) {
    let _ = DEADLINE.try_with(|d| d.set(Instant::now() + budget));
}

/// Every migration in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pooled connection.
pub type Conn = PooledConnection<ConnectionManager<PgConnection>>;

/// The connection pool shared by all workers.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<PgConnection>>,
    /// A request's time budget for its database work (`DB_STATEMENT_TIMEOUT_MS`).
    budget: Duration,
}

/// Adds a connect timeout to a URL that has none, so that a dead server fails fast.
pub fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout=2")
}

/// The URL serving connections use: a connect timeout, a server-side statement timeout of
/// `budget`, JIT compilation off, and TCP keepalives with a user timeout, so that a server or
/// network that stops answering fails the connection instead of holding it. (libpq applies the
/// TCP settings to TCP connections only; against a frozen server on a Unix socket the request
/// deadline still holds.) Settings the URL already has are kept.
///
/// JIT is off because PostgreSQL decides it on cost estimates, and a query over set-returning
/// functions (the conformance report's days and JSON arrays, estimated at 1,000 and 100 rows
/// each) crosses its threshold however little data there is: it compiled for 1.7 s a report that
/// then ran in 10 ms. Every statement of the service is short; none gains from JIT.
pub fn serving_url(url: &str, budget: Duration) -> String {
    let mut out = with_connect_timeout(url);
    let ms = budget.as_millis();
    let extra = [
        (
            "options",
            format!("-c%20statement_timeout%3D{ms}%20-c%20jit%3Doff"),
        ),
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", "5".to_owned()),
        ("keepalives_interval", "2".to_owned()),
        ("keepalives_count", "3".to_owned()),
        ("tcp_user_timeout", ms.to_string()),
    ];
    for (name, value) in extra {
        if !out.contains(&format!("{name}=")) {
            let separator = if out.contains('?') { '&' } else { '?' };
            out.push_str(&format!("{separator}{name}={value}"));
        }
    }
    out
}

/// How long work may wait on the database without progress before its caller gets a 503.
#[derive(Clone)]
pub struct Progress {
    started: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Progress {
    /// Notes progress: the deadline moves on by a whole budget.
    pub fn tick(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.started + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

impl Db {
    /// A lazily filled pool: the service starts even when the database is down and recovers when
    /// it returns; a checkout waits at most `timeout` (and never past the request's deadline),
    /// then the request gets a 503. `budget` is each request's deadline for its database work.
    pub fn new(url: &str, size: u32, timeout: Duration, budget: Duration) -> Self {
        let manager = ConnectionManager::<PgConnection>::new(serving_url(url, budget));
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .connection_timeout(timeout)
            .test_on_check_out(true)
            .build_unchecked(manager);
        Self { pool, budget }
    }

    /// A connection now, or 503 within the pool timeout.
    pub fn get(&self) -> ApiResult<Conn> {
        Ok(self.pool.get()?)
    }

    /// A request's time budget for its database work.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The current request's deadline, or one budget from now outside a request.
    pub fn deadline(&self) -> Instant {
        DEADLINE
            .try_with(std::cell::Cell::get)
            .unwrap_or_else(|_| Instant::now() + self.budget)
    }

    /// Runs blocking database work off the async workers; 503 once the request's deadline passes.
    pub async fn run<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut PgConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run_until(self.deadline(), work).await
    }

    /// [`Db::run`] with a deadline of at most `limit` from now (readiness answers quickly).
    pub async fn run_within<T, F>(&self, limit: Duration, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut PgConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = self.deadline().min(Instant::now() + limit);
        self.run_until(deadline, work).await
    }

    /// Runs blocking work in one transaction: everything commits together or not at all, and
    /// nothing commits once the caller has been answered 503 for passing the deadline.
    pub async fn transaction<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut PgConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = self.deadline();
        self.run_until(deadline, move |conn| {
            let done = conn.transaction(|conn| {
                let out = work(conn)?;
                if Instant::now() >= deadline {
                    return Err(ApiError::Unavailable);
                }
                Ok(out)
            });
            after_commit::transaction_ended(done.is_ok());
            done
        })
        .await
    }

    async fn run_until<T, F>(&self, deadline: Instant, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut PgConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let remaining = deadline.saturating_duration_since(Instant::now());
        let task = actix_web::web::block(move || {
            let wait = deadline.saturating_duration_since(Instant::now());
            let wait = wait.min(pool.connection_timeout());
            let mut conn = pool.get_timeout(wait)?;
            work(&mut conn)
        });
        match tokio::time::timeout(remaining, task).await {
            Ok(done) => done?,
            Err(_) => Err(past_deadline()),
        }
    }

    /// Runs long blocking work (a verification of the whole log) that calls [`Progress::tick`]
    /// as it goes: 503 only once no tick came for a whole budget, as when the database hangs.
    pub async fn run_watched<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut PgConnection, &Progress) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let progress = Progress {
            started: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        };
        let watched = progress.clone();
        let pool = self.pool.clone();
        let budget = self.budget;
        let task = actix_web::web::block(move || {
            let mut conn = pool.get_timeout(budget.min(pool.connection_timeout()))?;
            work(&mut conn, &watched)
        });
        let mut task = std::pin::pin!(task);
        loop {
            let until = tokio::time::Instant::from_std(progress.last() + budget);
            match tokio::time::timeout_at(until, &mut task).await {
                Ok(done) => return done?,
                Err(_) if progress.last() + budget <= Instant::now() => return Err(past_deadline()),
                Err(_) => {}
            }
        }
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

fn past_deadline() -> ApiError {
    crate::metrics::record_db_error();
    log::warn!("database work passed its deadline; answering 503");
    ApiError::Unavailable
}

/// Applies pending migrations while holding a Postgres advisory lock, so that several instances
/// starting at once migrate exactly once. Before the migration that drops the clear columns of
/// the first version, every row still in clear is encrypted (see `at_rest::upgrade`); after the
/// last one, the service keys are made if the database has none.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    migrate_before(conn, None)
}

/// [`migrate`], stopping before the migration whose version is `before` (digits of its name, such
/// as `2026-12-01-220000`): a database at an older schema, for loading data as an older version
/// wrote it (the benchmarks' load, then an upgrade).
pub fn migrate_before(
    conn: &mut PgConnection,
    before: Option<&str>,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let digits = |s: &str| -> String {
        s.chars()
            .take_while(|c| *c != '_')
            .filter(char::is_ascii_digit)
            .collect()
    };
    let before = before.map(digits);
    singleton::exclusively(conn, singleton::Singleton::Migrations, |conn| {
        let pending = conn.pending_migrations(MIGRATIONS)?;
        let mut applied = 0;
        for migration in pending {
            let version = digits(&migration.name().to_string());
            if before.as_ref().is_some_and(|b| version >= *b) {
                return Ok(applied);
            }
            if crate::at_rest::upgrade::drops_clear_columns(&migration.name().to_string()) {
                crate::at_rest::upgrade::encrypt_clear_rows(conn)
                    .map_err(crate::at_rest::upgrade::describe)?;
            }
            conn.run_migration(&*migration)?;
            applied += 1;
        }
        if before.is_none() {
            crate::at_rest::store::ensure_service_keys(conn)
                .map_err(crate::at_rest::upgrade::describe)?;
        }
        Ok(applied)
    })
}

/// True when every embedded migration has been applied.
pub fn migrations_current(conn: &mut PgConnection) -> bool {
    matches!(conn.has_pending_migration(MIGRATIONS), Ok(false))
}

/// True when the connection reaches a primary that accepts writes: not a standby in recovery,
/// not a read-only server (`default_transaction_read_only`, as a failing-over primary may be).
pub fn accepts_writes(conn: &mut PgConnection) -> ApiResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Writable {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        writable: bool,
    }
    let row: Writable = diesel::RunQueryDsl::get_result(diesel::sql_query(
        "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable",
    ), conn)?;
    Ok(row.writable)
}

/// Connects once, directly (start-up and tooling).
pub fn connect(url: &str) -> ApiResult<PgConnection> {
    PgConnection::establish(&with_connect_timeout(url)).map_err(|e| {
        log::warn!("cannot connect to the database: {e}");
        ApiError::Unavailable
    })
}

#[cfg(test)]
mod tests {
    use super::serving_url;
    use std::time::Duration;

    #[test]
    fn serving_urls_carry_the_limits_and_keep_what_the_url_sets() {
        let url = serving_url("postgres://u@h/db", Duration::from_millis(5000));
        assert!(
            url.starts_with("postgres://u@h/db?connect_timeout=2&"),
            "{url}"
        );
        for part in [
            "options=-c%20statement_timeout%3D5000%20-c%20jit%3Doff",
            "keepalives=1",
            "tcp_user_timeout=5000",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
        let url = serving_url(
            "postgres://u@/db?host=/run&connect_timeout=9&tcp_user_timeout=100",
            Duration::from_millis(5000),
        );
        assert!(url.contains("connect_timeout=9") && url.contains("tcp_user_timeout=100"));
        assert!(!url.contains("tcp_user_timeout=5000") && !url.contains("connect_timeout=2"));
    }
}
