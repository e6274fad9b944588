//! The application: routes, middleware and error mapping, shared by `serve` and the tests.

use crate::access_log::writer::LogWriter;
use crate::access_log::Sealer;
use crate::auth::Verifier;
use crate::config::{Config, JwtKey};
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::{json_error, path_error, query_error, MAX_BULK_JSON_BYTES, MAX_JSON_BYTES};
use crate::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::ResponseError;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::sync::OnceLock;
use utoipa_swagger_ui::SwaggerUi;

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
        .configure(crate::ops::configure)
        .configure(crate::subjects::configure)
        .configure(crate::consents::configure)
        .configure(crate::recipients::configure)
        .configure(crate::disclosures::configure)
        .configure(crate::access_log::proofs::configure)
        .configure(crate::receipts::routes::configure)
        .configure(crate::access_log::routes::configure)
        .configure(crate::requests::configure)
        .service(web::redirect("/docs", "/docs/"))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", crate::openapi::document()))
        .default_service(web::to(unmatched))
}

/// 405 (with `Allow`) for a documented path with another method, 404 for anything else.
async fn unmatched(req: HttpRequest) -> HttpResponse {
    method_not_allowed(&req)
}

/// The answer to a method the path does not support (404 when no documented path matches).
pub fn method_not_allowed(req: &HttpRequest) -> HttpResponse {
    let Some(allowed) = allowed_methods(req.path()) else {
        return ApiError::not_found("route").error_response();
    };
    let mut res = ApiError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} is not allowed here; use {allowed}", req.method()),
    )
    .error_response();
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

/// A documented path template and the methods it takes.
pub struct Route {
    /// The template, such as `/v1/subjects/{id}`: what metrics and logs name.
    pub template: String,
    segments: Vec<String>,
    /// The methods, as an `Allow` header lists them.
    pub allowed: String,
}

/// The documented route a path belongs to, found by comparing segments: cheap enough for every
/// request (the router's own regex matching is not repeated for metrics).
pub fn route_of(path: &str) -> Option<&'static Route> {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        crate::openapi::document()
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ];
                let allowed: Vec<&str> = methods
                    .iter()
                    .filter(|(_, on)| *on)
                    .map(|(m, _)| *m)
                    .collect();
                Route {
                    template: template.clone(),
                    segments: template.split('/').map(str::to_owned).collect(),
                    allowed: allowed.join(", "),
                }
            })
            .collect()
    });
    let mut best: Option<(&Route, usize)> = None;
    for route in routes {
        let mut literal = 0;
        let mut parts = path.split('/');
        let fits = route.segments.iter().all(|t| match parts.next() {
            Some(s) if t == s => {
                literal += 1;
                true
            }
            Some(s) => t.starts_with('{') && !s.is_empty(),
            None => false,
        }) && parts.next().is_none();
        // A literal segment beats a parameter: /v1/access-logs/verify is not /v1/access-logs/{id}.
        if fits && best.is_none_or(|(_, n)| literal > n) {
            best = Some((route, literal));
        }
    }
    best.map(|(route, _)| route)
}

fn allowed_methods(path: &str) -> Option<String> {
    route_of(path).map(|r| r.allowed.clone())
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
        let proofs = crate::access_log::sealing::Proofs::start(config)?;
        Ok(Self {
            sealer: Sealer::start(db.clone(), SEAL_PERIOD, proofs)?,
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
