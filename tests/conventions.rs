//! The conventions integrators' tools check: HEAD on every GET route, RFC 6750 challenges.

use crate::harness::{staff, test_config, TestApp, TestDb, SECRET};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use planpro_privacy::config::{JwtKey, Secret};

/// Every documented GET path with its parameters filled in, and the undocumented GET pages.
fn get_paths() -> Vec<String> {
    let document = planpro_privacy::openapi::document_json();
    let id = uuid::Uuid::now_v7();
    let mut paths: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, item)| item.get("get").is_some())
        .map(|(template, _)| {
            template
                .split('/')
                .map(|part| match part {
                    "{purpose}" | "{code}" => "marketing".to_owned(),
                    p if p.starts_with('{') => id.to_string(),
                    p => p.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    assert!(paths.len() > 30, "{paths:?}");
    paths.extend(["/openapi.json", "/docs/", "/docs/swagger-ui.css"].map(str::to_owned));
    paths
}

#[actix_web::test]
async fn every_get_route_answers_head_as_it_answers_get() {
    let app = TestApp::spawn().await;
    let token = app.token(&staff());
    for path in get_paths() {
        let mut statuses = Vec::new();
        for method in [Method::GET, Method::HEAD] {
            let res = app
                .send(
                    TestRequest::default()
                        .method(method)
                        .uri(&path)
                        .insert_header(("Authorization", format!("Bearer {token}"))),
                )
                .await;
            statuses.push(res.status.as_u16());
        }
        assert_eq!(statuses[0], statuses[1], "GET and HEAD of {path}");
        assert_ne!(statuses[1], 405, "HEAD {path}");
    }
}

/// Sends one request over a real socket and returns the answer's head and body.
fn over_socket(addr: std::net::SocketAddr, method: &str, path: &str) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (
        String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase(),
        raw[end + 4..].to_vec(),
    )
}

fn content_length(head: &str) -> Option<usize> {
    head.lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
}

#[actix_web::test]
async fn head_sends_the_get_answer_without_its_body_over_a_real_socket() {
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
    actix_web::web::block(move || {
        for path in [
            "/healthz",
            "/readyz",
            "/metrics",
            "/.well-known/jwks.json",
            "/v1/access-logs/checkpoint-key",
            "/openapi.json",
            "/docs/",
        ] {
            let (head, body) = over_socket(addr, "HEAD", path);
            assert!(head.starts_with("http/1.1 200"), "HEAD {path}: {head}");
            assert!(body.is_empty(), "HEAD {path} sent a body");
            let (get_head, get_body) = over_socket(addr, "GET", path);
            assert!(
                get_head.starts_with("http/1.1 200"),
                "GET {path}: {get_head}"
            );
            if path != "/metrics" && path != "/readyz" {
                assert_eq!(content_length(&head), Some(get_body.len()), "HEAD {path}");
            }
        }
    })
    .await
    .unwrap();
    handle.stop(true).await;
    state.shutdown();
}

/// `promtool check metrics` on a text, or None when promtool is not installed (CI installs it).
fn promtool(text: &[u8]) -> Option<(bool, String)> {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().unwrap().write_all(text).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success() && said.trim().is_empty(), said))
}

#[actix_web::test]
async fn metrics_answer_the_classic_format_that_promtool_accepts_and_openmetrics_on_request() {
    let app = TestApp::spawn().await;
    app.get("/v1/subjects").await.assert_status(200);
    planpro_privacy::metrics::record_notice_attempt(true);
    planpro_privacy::metrics::record_notice_attempt(false);
    for accept in [None, Some("text/plain"), Some("*/*")] {
        let mut req = TestRequest::get().uri("/metrics");
        if let Some(accept) = accept {
            req = req.insert_header(("Accept", accept));
        }
        let res = app.send(req).await;
        res.assert_status(200);
        assert_eq!(
            res.header("content-type").as_deref(),
            Some("text/plain; version=0.0.4; charset=utf-8"),
            "{accept:?}"
        );
        let text = String::from_utf8_lossy(&res.body).to_string();
        assert!(!text.contains("# EOF"), "{text}");
        for counter in [
            "http_requests_total",
            "notices_delivered_total",
            "notice_attempts_failed_total",
            "db_errors_total",
        ] {
            assert!(
                text.contains(&format!("# HELP {counter} ")),
                "{counter}: {text}"
            );
            assert!(
                text.contains(&format!("# TYPE {counter} counter")),
                "{text}"
            );
        }
        assert!(text.contains("privacy_requests_due_within_week "), "{text}");
        match promtool(&res.body) {
            Some((passed, said)) => assert!(passed, "promtool check metrics: {said}\n{text}"),
            None => eprintln!("promtool is not installed: the format was checked without it"),
        }
    }
    let res = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .insert_header(("Accept", "application/openmetrics-text; version=1.0.0")),
        )
        .await;
    assert!(res
        .header("content-type")
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(String::from_utf8_lossy(&res.body).ends_with("# EOF\n"));
}

const BIN: &str = env!("CARGO_BIN_EXE_planpro-privacy");

#[test]
fn an_unknown_command_gets_the_nearest_one() {
    let out = std::process::Command::new(BIN)
        .arg("serv")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("similar subcommand exists: 'serve'"), "{err}");
}

#[test]
fn a_taken_port_is_reported_at_once_with_the_address_and_bind_addr() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = crate::harness::scratch("taken-port");
    let started = std::time::Instant::now();
    let out = std::process::Command::new(BIN)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIND_ADDR", addr.to_string())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&addr.to_string()) && err.contains("BIND_ADDR"),
        "{err}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(2),
        "took {elapsed:?}"
    );
    assert!(
        !dir.join(".data/postgres").exists(),
        "start-up work began before the port was checked"
    );
}
