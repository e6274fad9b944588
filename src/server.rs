//! The application: middleware, extractor limits and the routes of [`crate::router`], shared by
//! `serve` and the tests.

use crate::access_log::sealer::Sealer;
use crate::access_log::writer::LogWriter;
use crate::auth::Verifier;
use crate::config::{Config, JwtKey};
use crate::db::Db;
use crate::extract::{json_error, path_error, query_error, MAX_BULK_JSON_BYTES, MAX_JSON_BYTES};
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
    App::new()
        .app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_JSON_BYTES)
                .error_handler(json_error),
        )
        .app_data(web::PayloadConfig::new(MAX_BULK_JSON_BYTES))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
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
        )
        .map_err(|e| std::io::Error::other(format!("unusable JWT key: {e}")))?;
        let db = Db::new(url, config.db_pool_size, config.db_pool_timeout);
        Ok(Self {
            sealer: Sealer::start(
                db.clone(),
                SEAL_PERIOD,
                crate::access_log::sealing::Proofs::start(config)?,
            )?,
            db,
            verifier,
            log_writer: LogWriter::start(url, LOG_WRITERS, crate::batched::operations())?,
        })
    }
}

/// How often the hash chain is extended.
const SEAL_PERIOD: std::time::Duration = std::time::Duration::from_millis(250);

/// Writer threads of the access log: one commits while the next gathers its batch.
const LOG_WRITERS: usize = 2;

/// Serves until SIGINT or SIGTERM, then finishes requests in flight and commits every pending
/// access-log entry before returning.
pub fn run(config: &Config, url: &str, key: &JwtKey) -> std::io::Result<()> {
    let state = web::Data::new(AppState::new(config, url, key)?);
    let app_state = state.clone();
    let bind = config.bind_addr;
    let served = actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || build_app(app_state.clone()))
            .bind(bind)?
            .shutdown_timeout(30)
            .run();
        log::info!("listening on http://{bind} (docs at http://{bind}/docs/)");
        server.await
    });
    state.shutdown();
    served
}
