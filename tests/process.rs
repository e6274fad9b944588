//! The real binary: start-up errors, graceful shutdown, and server logs free of personal data.

use crate::harness::{token_for, TestDb, SECRET};
use planpro_privacy::auth::Scope;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_planpro-privacy");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A raw HTTP/1.1 request; returns the status and the whole response text.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// The binary, serving a test database, with its log captured.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: std::path::PathBuf,
}

impl Server {
    pub fn start(db: &TestDb) -> Self {
        Self::start_on(&db.url, &[])
    }

    /// The binary on any database URL, with extra environment.
    pub fn start_on(url: &str, extra_env: &[(&str, &str)]) -> Self {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = crate::harness::scratch("log").join("service.log");
        let child = Command::new(BIN)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .envs(crate::harness::test_env())
            .env("BIND_ADDR", addr.to_string())
            .env("RUST_LOG", "debug")
            .envs(extra_env.iter().copied())
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .expect("start the binary");
        let server = Self { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(addr).is_ok() && http(addr, "GET", "/healthz", &[], "").0 == 200 {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the service did not start: {}", server.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn bad_configuration_names_every_bad_variable_and_prints_no_secret() {
    let out = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env(
            "DATABASE_URL",
            "postgres://u:hunter2-password@127.0.0.1:1/x",
        )
        .env("JWT_SECRET", "tooshort-but-secret")
        .env("BIND_ADDR", "not-an-address")
        .env("DB_POOL_SIZE", "-3")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    for name in ["JWT_SECRET", "BIND_ADDR", "DB_POOL_SIZE"] {
        assert!(text.contains(name), "{name} not named: {text}");
    }
    assert!(
        !text.contains("hunter2") && !text.contains("tooshort-but-secret"),
        "{text}"
    );
}

#[test]
fn the_token_command_prints_a_token_the_service_accepts() {
    let out = Command::new(BIN)
        .args([
            "token",
            "--sub",
            "cli",
            "--scope",
            "access-logs:read",
            "--ttl",
            "5m",
        ])
        .env_clear()
        .env("JWT_SECRET", SECRET)
        .env("DATABASE_URL", "postgres://unused")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let verifier = planpro_privacy::auth::Verifier::new(
        &planpro_privacy::config::JwtKey::Secret(planpro_privacy::config::Secret::new(SECRET)),
        None,
        None,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(verifier.verify(&token).unwrap().sub, "cli");
    // Only the signing settings are read: a bad pool size is no reason to refuse.
    let unrelated = Command::new(BIN)
        .args(["token", "--sub", "cli", "--scope", "subjects:erase"])
        .env_clear()
        .env("JWT_SECRET", SECRET)
        .env("DATABASE_URL", "postgres://unused")
        .env("DB_POOL_SIZE", "0")
        .env("BIND_ADDR", "nowhere")
        .output()
        .unwrap();
    assert!(
        unrelated.status.success(),
        "{}",
        String::from_utf8_lossy(&unrelated.stderr)
    );
}

/// Runs `token` with `args` and the test secret; returns its exit success and stderr.
fn token_command(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("token")
        .args(args)
        .env_clear()
        .env("JWT_SECRET", SECRET)
        .env("DATABASE_URL", "postgres://unused")
        .output()
        .unwrap();
    assert!(
        out.status.success() || out.stdout.is_empty(),
        "a refused token was printed"
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_token_command_names_what_is_wrong_and_the_accepted_form() {
    let (ok, text) = token_command(&["--scope", "subjects:read"]);
    assert!(!ok && text.contains("--sub"), "{text}");
    let (ok, text) = token_command(&["--sub", "a", "--scope", "subjects:read", "--ttl", "forever"]);
    assert!(
        !ok && text.contains("--ttl") && text.contains("15m"),
        "{text}"
    );
    let (ok, text) = token_command(&["--sub", "a", "--scope", "subjects:read subject:write"]);
    assert!(!ok && text.contains("subject:write"), "{text}");
    for valid in [
        "subjects:write",
        "requests:write",
        "access-logs:checkpoint",
        "partner",
    ] {
        assert!(text.contains(valid), "{valid} not listed: {text}");
    }
    let (ok, text) = token_command(&["--sub", "a", "--scope", "partner", "--recipient-id", "42"]);
    assert!(
        !ok && text.contains("--recipient-id") && text.contains("UUID"),
        "{text}"
    );
}

#[test]
fn every_command_has_help_that_only_helps() {
    for (command, reads) in [
        (
            "serve",
            &["DATABASE_URL", "BIND_ADDR", "DB_POOL_SIZE", "JWT_JWKS_URL"][..],
        ),
        ("migrate", &["DATABASE_URL", "DATA_DIR"][..]),
        (
            "token",
            &["JWT_SECRET", "--sub", "--scope", "--ttl", "--recipient-id"][..],
        ),
        ("openapi", &["OpenAPI"][..]),
    ] {
        let started = Instant::now();
        // A database that cannot be reached and a busy address: help must touch neither.
        let out = Command::new(BIN)
            .args([command, "--help"])
            .env_clear()
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .env("JWT_SECRET", SECRET)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command} --help failed: {text}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(text.contains("Usage: planpro-privacy"), "{command}: {text}");
        for name in reads {
            assert!(
                text.contains(name),
                "{command} --help does not mention {name}: {text}"
            );
        }
        assert!(
            !text.contains("openapi\":"),
            "{command} --help printed the document"
        );
    }
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "migrate", "token", "openapi"] {
        assert!(text.contains(command), "{text}");
    }
}

#[test]
fn the_openapi_command_prints_the_committed_document() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        planpro_privacy::openapi::to_json()
    );
}

#[test]
fn sigterm_finishes_requests_in_flight_and_commits_their_entries() {
    let db = TestDb::new();
    let mut server = Server::start(&db);
    let token = token_for("shutdown-tester", &[Scope::AccessLogsRead], None);
    let addr = server.addr;
    let readers: Vec<_> = (0..16)
        .map(|i| {
            let auth = format!("Bearer {token}");
            std::thread::spawn(move || {
                let subject = uuid::Uuid::now_v7();
                let path = format!("/v1/subjects/{subject}/access-logs?limit={}", 10 + i);
                http(addr, "GET", &path, &[("Authorization", &auth)], "").0
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(30));
    let status = server.terminate();
    let answered_ok = readers
        .into_iter()
        .map(|r| r.join().unwrap())
        .filter(|s| *s == 200)
        .count() as i64;
    assert!(status.success(), "exit {status:?}: {}", server.log_text());
    assert!(answered_ok > 0, "no request was in flight");
    let logged = db.count("SELECT 1 FROM access_log WHERE actor = 'shutdown-tester'");
    assert_eq!(logged, answered_ok, "every answered read has its entry");
    // The final sealing round ran: every entry is chained.
    assert_eq!(db.count("SELECT 1 FROM access_log a LEFT JOIN access_log_chain c ON c.entry_seq = a.seq WHERE c.pos IS NULL"), 0);
}

#[test]
fn server_logs_hold_no_personal_data_or_tokens() {
    let db = TestDb::new();
    let mut server = Server::start(&db);
    let token = token_for(
        "log-tester",
        &[
            Scope::AccessLogsRead,
            Scope::SubjectsRead,
            Scope::SubjectsWrite,
        ],
        None,
    );
    let auth = format!("Bearer {token}");
    let marker_email = "mari.maasikas@example.ee";
    let marker_code = "49403136526";
    let headers = [
        ("Authorization", auth.as_str()),
        ("X-Access-Purpose", "client Mari Maasikas asked"),
        ("Content-Type", "application/json"),
    ];
    http(
        server.addr,
        "GET",
        &format!("/v1/access-logs?actor={marker_email}"),
        &headers,
        "",
    );
    http(
        server.addr,
        "GET",
        &format!("/v1/subjects?email={marker_email}&personal_code={marker_code}"),
        &headers,
        "",
    );
    let body = format!(
        r#"{{"kind":"client","given_name":"Mari","family_name":"Maasikas","personal_code":"{marker_code}","email":"{marker_email}","phone":"+3725551234","source":{{"type":"data_subject"}}}}"#
    );
    http(server.addr, "POST", "/v1/subjects", &headers, &body);
    http(server.addr, "POST", "/v1/subjects", &headers, &body);
    http(
        server.addr,
        "POST",
        "/v1/subjects",
        &headers,
        r#"{"email": "broken@example.ee", "personal_code": "12345678901"}"#,
    );
    server.terminate();
    let log = server.log_text();
    assert!(log.contains("request_id="), "nothing was logged: {log}");
    for secret in [
        marker_email,
        marker_code,
        "Maasikas",
        "+3725551234",
        "broken@example.ee",
        "12345678901",
        &token,
    ] {
        assert!(!log.contains(secret), "the log contains {secret}:\n{log}");
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Stops a relocated cluster and removes it and the project directory, whatever the test did.
struct RootOnlyProject {
    home: std::path::PathBuf,
    cluster: Option<std::path::PathBuf>,
}

impl Drop for RootOnlyProject {
    fn drop(&mut self) {
        if let Some(cluster) = &self.cluster {
            let pgdata = cluster.join("pgdata");
            if pgdata.join("postmaster.pid").exists() {
                let _ = Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .arg(planpro_pg_ctl())
                    .args(["-D"])
                    .arg(&pgdata)
                    .args(["-m", "immediate", "stop"])
                    .output();
            }
            let _ = std::fs::remove_dir_all(cluster);
        }
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn planpro_pg_ctl() -> std::path::PathBuf {
    let mut bins: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/pg_ctl"))
        .filter(|p| p.is_file())
        .collect();
    bins.sort();
    bins.pop().unwrap_or_else(|| "pg_ctl".into())
}

#[test]
fn embedded_mode_runs_as_root_from_a_root_only_directory() {
    use std::os::unix::fs::PermissionsExt;
    if !running_as_root() {
        eprintln!("skipped: this test needs root");
        return;
    }
    // Like root's own home: nobody else may even enter it.
    let mut project = RootOnlyProject {
        home: crate::harness::scratch("root-only"),
        cluster: None,
    };
    let work = project.home.join("planpro-privacy");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::set_permissions(&project.home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let log = project.home.join("service.log");
    let mut child = Command::new(BIN)
        .current_dir(&work)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIND_ADDR", addr.to_string())
        .env("RUST_LOG", "info")
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
        ))
        .spawn()
        .unwrap();
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut ready = false;
    while Instant::now() < deadline && !ready {
        if let Some(cluster) = read_log().lines().find_map(|l| {
            l.split_once("so the cluster lives in ")
                .map(|(_, p)| p.trim().to_owned())
        }) {
            project.cluster = Some(cluster.into());
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        ready = TcpStream::connect(addr).is_ok() && http(addr, "GET", "/readyz", &[], "").0 == 200;
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = read_log();
    assert!(ready, "the service did not become ready:\n{text}");
    // Read again: the line may have been written after the last look and before readiness.
    if let Some(cluster) = text.lines().find_map(|l| {
        l.split_once("so the cluster lives in ")
            .map(|(_, p)| p.trim().to_owned())
    }) {
        project.cluster = Some(cluster.into());
    }
    let cluster = project
        .cluster
        .clone()
        .expect("the log names where the cluster lives");
    assert!(cluster.starts_with("/var/lib/planpro-privacy/"), "{text}");
    // The folder names the checkout it belongs to, and says so inside.
    let name = cluster.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with("planpro-privacy-.data-"), "{name}");
    let belongs = std::fs::read_to_string(cluster.join("BELONGS-TO.txt")).unwrap();
    assert!(
        belongs.contains(&*work.join(".data/postgres").to_string_lossy()),
        "{belongs}"
    );
    assert!(cluster.join("pgdata/PG_VERSION").exists());
    assert!(work
        .join(".data/postgres/WHERE-IS-THE-CLUSTER.txt")
        .exists());
    // The development token it printed works against the data it serves.
    let token = text
        .lines()
        .skip_while(|l| !l.starts_with("development token"))
        .nth(1)
        .expect("a development token")
        .trim()
        .to_owned();
    let auth = format!("Bearer {token}");
    let (status, body) = http(addr, "GET", "/v1/subjects", &[("Authorization", &auth)], "");
    assert_eq!(status, 200, "{body}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{}", read_log());
    assert!(
        !cluster.join("pgdata/postmaster.pid").exists(),
        "the cluster was stopped"
    );
    // `rm -rf .data` forgets the master key but not the cluster: the next start says which
    // database it found and how to start afresh.
    std::fs::remove_dir_all(work.join(".data")).unwrap();
    let out = Command::new(BIN)
        .current_dir(&work)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIND_ADDR", addr.to_string())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no master key opens"), "{err}");
    assert!(err.contains(&*cluster.to_string_lossy()), "{err}");
    assert!(err.contains("to start afresh"), "{err}");
}
