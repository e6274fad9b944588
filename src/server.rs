//! The application: middleware, extractor limits and the routes of [`crate::router`], shared by
//! `serve` and the tests.

use crate::access_log::sealer::Sealer;
use crate::access_log::writer::LogWriter;
use crate::auth::Verifier;
use crate::background::Driver;
use crate::body::{MAX_BULK_JSON_BYTES, MAX_JSON_BYTES};
use crate::config::{Config, JwtKey};
use crate::db::Db;
use crate::extract::{json_error, path_error, query_error};
use crate::idempotency::expiry::Purge;
use crate::notices::worker::Worker;
use crate::retention::worker::Runner;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

/// Builds the app around shared state: every route, the request middleware and the problem+json
/// mapping of actix's own extractor errors.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let body_timeout = crate::body::BodyTimeout(state.body_timeout);
    App::new()
        .app_data(state)
        .app_data(body_timeout)
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_JSON_BYTES)
                .error_handler(json_error),
        )
        .app_data(web::PayloadConfig::new(MAX_BULK_JSON_BYTES))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .wrap(from_fn(crate::head::as_get))
        .wrap(from_fn(crate::request::observe))
        .configure(crate::router::routes)
}

impl AppState {
    /// Connects the pool lazily, builds the verifier and starts the access-log writers.
    pub fn new(config: &Config, url: &str, key: &JwtKey) -> std::io::Result<Self> {
        let verifier = Verifier::new(
            key,
            config.jwt_issuer.as_deref(),
            config.jwt_audience.as_deref(),
            &config.subject,
        )
        .map_err(|e| std::io::Error::other(format!("unusable JWT key: {e}")))?;
        config
            .data_keys
            .install(config.database_url.is_none(), &config.data_dir)
            .map_err(std::io::Error::other)?;
        crate::controller::install(config.controller.clone()).map_err(std::io::Error::other)?;
        crate::notices::outcomes::set_working_days(config.notice_outcome_working_days);
        let db = Db::new(
            url,
            config.db_pool_size,
            config.db_pool_timeout,
            config.db_statement_timeout,
        );
        plug_in();
        let keys = config
            .proofs
            .resolve(config.database_url.is_none(), &config.data_dir)
            .map_err(std::io::Error::other)?;
        crate::receipts::install(keys.receipt_key).map_err(std::io::Error::other)?;
        let proofs = crate::access_log::sealing::Proofs::start(config)?;
        let (sealer, sealing) = Sealer::start(db.clone(), SEAL_PERIOD, proofs);
        let serving_url = crate::db::serving_url(url, config.db_statement_timeout);
        // The periodic jobs, one line each; they stop in this order (the sealing last).
        let mut background = Driver::default();
        background.register(sealing)?;
        background.register(Runner::new(serving_url.clone(), config.retention))?;
        background.register(Worker::start(db.clone(), config.webhook_allow_private)?)?;
        background.register(Purge { db: db.clone() })?;
        Ok(Self {
            sealer,
            background,
            webhook_allow_private: config.webhook_allow_private,
            registers: config.registers.clone(),
            purpose_rule: crate::activities::binding::rule(config.registers.purpose_enforcement),
            require_verified_requests: config.require_verified_requests,
            db,
            verifier,
            body_timeout: config.request_body_timeout,
            log_writer: LogWriter::start(
                &serving_url,
                LOG_WRITERS,
                crate::batched::operations(),
                config.db_statement_timeout,
            )?,
        })
    }
}

/// Plugs the resources into the mechanisms, once per process: the notices' after-commit hook,
/// the subjects' check before an idempotent replay.
fn plug_in() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        crate::notices::plug_in();
        crate::subjects::plug_in();
    });
}

/// How often the hash chain is extended.
const SEAL_PERIOD: std::time::Duration = std::time::Duration::from_millis(250);

/// Writer threads of the access log: one commits while the next gathers its batch.
const LOG_WRITERS: usize = 2;

/// Connections waiting to be accepted (the kernel caps it at `net.core.somaxconn`).
const ACCEPT_BACKLOG: u32 = 4096;
/// How long an idle keep-alive connection stays open.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a client may take to send a request's head (line and headers); the body has its
/// own deadline, `REQUEST_BODY_TIMEOUT_S`.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a closing connection may take to shut down.
const DISCONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Blocking threads per worker: the pool's size, with a few spare for work that needs no
/// connection (a bundle's zip, a proof's hashing).
fn blocking_threads(pool_size: u32) -> usize {
    usize::try_from(pool_size)
        .unwrap_or(usize::MAX)
        .saturating_add(2)
}

/// Raises the soft limit of open files towards `wanted` (within the hard limit), so that the
/// connection limit is not cut short by the descriptor limit.
fn raise_file_limit(wanted: usize) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let wanted = libc::rlim_t::try_from(wanted).unwrap_or(libc::rlim_t::MAX);
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                log::warn!("could not raise the open-file limit");
            }
        }
    }
    if limit.rlim_cur < libc::rlim_t::try_from(wanted).unwrap_or(libc::rlim_t::MAX) {
        log::warn!(
            "the open-file limit ({}) is below MAX_CONNECTIONS; connections beyond it are refused",
            limit.rlim_cur
        );
    }
}

/// Serves on `listener` (bound to `BIND_ADDR`) until SIGINT or SIGTERM, then finishes requests
/// in flight and commits every pending access-log entry before returning.
pub fn run(
    config: &Config,
    url: &str,
    key: &JwtKey,
    listener: std::net::TcpListener,
) -> std::io::Result<()> {
    let state = web::Data::new(AppState::new(config, url, key)?);
    let app_state = state.clone();
    let bind = config.bind_addr;
    // The listener was bound early, with the standard library's short backlog: widen it.
    // SAFETY: listen() on a socket this process owns and already listens on only sets its backlog.
    unsafe {
        libc::listen(
            std::os::fd::AsRawFd::as_raw_fd(&listener),
            i32::try_from(ACCEPT_BACKLOG).unwrap_or(i32::MAX),
        );
    }
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // The limit is per worker; the process must be allowed the descriptors it implies.
    let per_worker = config.max_connections.div_ceil(workers);
    let blocking = blocking_threads(config.db_pool_size);
    raise_file_limit(config.max_connections + 256);
    let served = actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || build_app(app_state.clone()))
            .workers(workers)
            // Blocking work is database work, bounded by the pool: threads beyond it would only
            // wait for a connection, each with its stack and allocator arena (actix's default is
            // 512 / workers).
            .worker_max_blocking_threads(blocking)
            .max_connections(per_worker)
            .keep_alive(KEEP_ALIVE)
            .client_request_timeout(HEADER_TIMEOUT)
            .client_disconnect_timeout(DISCONNECT_TIMEOUT)
            .listen(listener)?
            .shutdown_timeout(30)
            .run();
        log::info!("listening on http://{bind} (docs at http://{bind}/docs/)");
        server.await
    });
    state.shutdown();
    served
}
