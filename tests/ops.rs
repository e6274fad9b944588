//! Operations: health, readiness, metrics, docs, the OpenAPI snapshot, request ids, routing.

use crate::harness::{test_config, TestApp, TestDb, SECRET};
use actix_web::test::TestRequest;
use planpro_privacy::config::{JwtKey, Secret};
use std::time::{Duration, Instant};

#[actix_web::test]
async fn healthz_and_readyz_answer_ok_on_a_migrated_database() {
    let app = TestApp::spawn().await;
    app.send(TestRequest::get().uri("/healthz"))
        .await
        .assert_status(200);
    let ready = app.send(TestRequest::get().uri("/readyz")).await;
    ready.assert_status(200);
    assert_eq!(
        ready.json(),
        serde_json::json!({"status": "ready", "alarms": []})
    );
}

#[actix_web::test]
async fn readyz_is_503_fast_when_the_database_is_down() {
    let db = TestDb::new();
    let mut config = test_config("postgres://nobody@127.0.0.1:1/none");
    config.db_pool_timeout = Duration::from_millis(500);
    let app = TestApp::on(db, &config, &JwtKey::Secret(Secret::new(SECRET))).await;
    let started = Instant::now();
    let res = app.send(TestRequest::get().uri("/readyz")).await;
    res.assert_problem(503, "service-unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(res.header("retry-after").as_deref(), Some("1"));
}

#[actix_web::test]
async fn readyz_is_503_while_migrations_are_pending() {
    let app = TestApp::spawn().await;
    app.db.exec("DELETE FROM __diesel_schema_migrations WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)");
    app.send(TestRequest::get().uri("/readyz"))
        .await
        .assert_problem(503, "service-unavailable");
}

#[actix_web::test]
async fn metrics_count_requests_per_route_template_and_status() {
    let app = TestApp::spawn().await;
    app.send(TestRequest::get().uri("/healthz"))
        .await
        .assert_status(200);
    let res = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .insert_header(("Accept", "application/openmetrics-text")),
        )
        .await;
    res.assert_status(200);
    let text = String::from_utf8(res.body.clone()).unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_max_connections 4"));
    assert!(text.contains("db_errors_total"));
    for name in [
        "http_request_duration_seconds_count",
        "http_request_duration_seconds_sum",
        "db_pool_connections",
        "db_pool_idle_connections",
        "access_log_commits_total",
        "access_log_entries_total",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert!(
        text.contains(r#"http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/healthz",status="200"} "#),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(res
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/openmetrics-text")));
}

#[actix_web::test]
async fn the_docs_page_and_its_assets_are_served_locally() {
    let app = TestApp::spawn().await;
    let page = app.send(TestRequest::get().uri("/docs/")).await;
    page.assert_status(200);
    let html = String::from_utf8_lossy(&page.body).to_string();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the docs page loads something from the internet"
    );
    app.send(TestRequest::get().uri("/docs/swagger-ui-bundle.js"))
        .await
        .assert_status(200);
    app.send(TestRequest::get().uri("/docs"))
        .await
        .assert_status(307);
}

#[actix_web::test]
async fn the_served_document_is_the_generated_one() {
    let app = TestApp::spawn().await;
    let res = app.send(TestRequest::get().uri("/openapi.json")).await;
    res.assert_status(200);
    let generated: serde_json::Value =
        serde_json::from_str(&planpro_privacy::openapi::to_json()).unwrap();
    assert_eq!(res.json(), generated);
}

#[test]
fn committed_openapi_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == planpro_privacy::openapi::to_json(),
        "openapi/openapi.json differs from the code; regenerate it with:\n    cargo run -q -- openapi > openapi/openapi.json"
    );
}

#[test]
fn every_operation_has_a_description_and_declares_its_errors() {
    let doc: serde_json::Value =
        serde_json::from_str(&planpro_privacy::openapi::to_json()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let description = op["description"].as_str().unwrap_or_default();
            assert!(
                !description.trim().is_empty(),
                "{method} {path} has no description"
            );
            if path.starts_with("/v1/") {
                let responses = op["responses"].as_object().unwrap();
                for status in ["400", "401", "403"] {
                    // An operation that needs no token (the checkpoints' public key) has no 401/403.
                    if status != "400" && op.get("security").is_none() {
                        continue;
                    }
                    if status == "400"
                        && method == "get"
                        && !path.contains('{')
                        && op.get("parameters").is_none()
                    {
                        continue;
                    }
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} does not declare {status}"
                    );
                }
            }
        }
    }
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let given = app
        .send(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("X-Request-Id", "abc-123")),
        )
        .await;
    assert_eq!(given.header("x-request-id").as_deref(), Some("abc-123"));
    let generated = app.send(TestRequest::get().uri("/healthz")).await;
    let id = generated.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let hostile = app
        .send(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("X-Request-Id", "a b\"<script>")),
        )
        .await;
    assert_ne!(
        hostile.header("x-request-id").as_deref(),
        Some("a b\"<script>")
    );
    assert_eq!(
        given.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[actix_web::test]
async fn unknown_routes_are_404_and_wrong_methods_405_as_problems() {
    let app = TestApp::spawn().await;
    app.send(TestRequest::get().uri("/nowhere"))
        .await
        .assert_problem(404, "not-found");
    app.send(TestRequest::delete().uri("/healthz"))
        .await
        .assert_problem(405, "method-not-allowed");
    let subject = uuid::Uuid::now_v7();
    for (method, path, allow) in [
        ("PATCH", "/v1/subjects".to_owned(), "GET, HEAD, POST"),
        (
            "OPTIONS",
            format!("/v1/subjects/{subject}/consents/history"),
            "GET, HEAD",
        ),
        (
            "DELETE",
            format!("/v1/subjects/{subject}"),
            "GET, HEAD, PATCH",
        ),
        ("GET", "/v1/consents/eligibility".to_owned(), "POST"),
    ] {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app
            .send(TestRequest::default().method(method.clone()).uri(&path))
            .await;
        res.assert_problem(405, "method-not-allowed");
        assert_eq!(
            res.header("allow").as_deref(),
            Some(allow),
            "{method} {path}"
        );
    }
}

#[actix_web::test]
async fn the_app_serves_over_a_real_socket() {
    use std::io::{Read, Write};
    let db = TestDb::new();
    let config = test_config(&db.url);
    let state = actix_web::web::Data::new(
        planpro_privacy::AppState::new(&config, &db.url, &JwtKey::Secret(Secret::new(SECRET)))
            .unwrap(),
    );
    let app_state = state.clone();
    let server = actix_web::HttpServer::new(move || planpro_privacy::build_app(app_state.clone()))
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let response = actix_web::web::block(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_ascii_lowercase().contains("x-request-id:"));
    handle.stop(true).await;
    state.shutdown();
}

#[test]
fn every_migration_reverts_and_applies_again() {
    use diesel_migrations::MigrationHarness;
    let db = TestDb::new();
    let mut conn = db.conn();
    let schema = |conn: &mut diesel::PgConnection| -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Col {
            #[diesel(sql_type = diesel::sql_types::Text)]
            c: String,
        }
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "SELECT table_name || '.' || column_name || ':' || data_type AS c
             FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1",
        )
        .load::<Col>(conn)
        .unwrap()
        .into_iter()
        .map(|r| r.c)
        .collect()
    };
    let before = schema(&mut conn);
    assert!(before.iter().any(|c| c.starts_with("access_log.")));
    conn.revert_all_migrations(planpro_privacy::db::MIGRATIONS)
        .unwrap();
    let empty = schema(&mut conn);
    assert!(
        empty
            .iter()
            .all(|c| c.starts_with("__diesel_schema_migrations.")),
        "left behind: {empty:?}"
    );
    planpro_privacy::db::migrate(&mut conn).unwrap();
    assert_eq!(schema(&mut conn), before);
    assert!(planpro_privacy::db::migrations_current(&mut conn));
}
