//! Bounded bodies, connections and time, against the real binary: stalled uploads are cut off
//! and their memory given back; a frozen database makes every request answer 503 in time, leaves
//! nothing half-done, and everything recovers when it thaws; malformed HTTP gets problems where
//! the server can shape the answer.

use crate::harness::{token_for, TestDb};
use crate::process::{http, Server};
use diesel::{Connection, PgConnection, RunQueryDsl};
use planpro_privacy::auth::Scope;
use planpro_privacy::db::embedded::{EmbeddedPostgres, Options};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Sends a request head announcing `declared` body bytes and `sent` of them, then waits.
fn stalled_upload(
    addr: std::net::SocketAddr,
    token: &str,
    declared: usize,
    sent: usize,
) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /v1/consents/eligibility HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut left = sent;
    while left > 0 {
        let n = left.min(chunk.len());
        if stream.write_all(&chunk[..n]).is_err() {
            break;
        }
        left -= n;
    }
    stream
}

/// Reads until the server closes the connection; the status of its answer (0 for none).
fn answer_of(stream: TcpStream, patience: Duration) -> (u16, String) {
    let (status, text, _) = timed_answer_of(stream, patience);
    (status, text)
}

/// [`answer_of`], with when the answer's first bytes arrived.
fn timed_answer_of(mut stream: TcpStream, patience: Duration) -> (u16, String, Instant) {
    stream.set_read_timeout(Some(patience)).unwrap();
    let mut bytes = Vec::new();
    let mut first = None;
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        first.get_or_insert_with(Instant::now);
        bytes.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&bytes).to_string();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text, first.unwrap_or_else(Instant::now))
}

#[test]
fn stalled_uploads_are_cut_off_in_time_and_their_memory_returns() {
    let db = TestDb::new();
    let server = Server::start_on(
        &db.url,
        &[("REQUEST_BODY_TIMEOUT_S", "2"), ("RUST_LOG", "warn")],
    );
    let pid = server.child.id();
    let size = 5_500_000;
    let reader = token_for("bulk", &[Scope::ConsentsRead], None);
    let partner = token_for("partner", &[Scope::Partner], Some(uuid::Uuid::now_v7()));
    std::thread::sleep(Duration::from_millis(300));
    let before = rss_kib(pid);

    // Without the scope, nothing is read: the refusal comes at once and the connection closes.
    let started = Instant::now();
    let refused: Vec<_> = (0..10)
        .map(|_| stalled_upload(server.addr, &partner, size, 512 * 1024))
        .collect();
    for stream in refused {
        let (status, text) = answer_of(stream, Duration::from_secs(5));
        assert_eq!(status, 403, "{text}");
        assert!(text.contains("application/problem+json"), "{text}");
    }
    // A 403 (not a 408 after the body deadline) shows the body was never waited for.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // With it, 40 uploads that stop one byte short are cut off within the body deadline.
    let started = Instant::now();
    let streams: Vec<_> = (0..40)
        .map(|_| stalled_upload(server.addr, &reader, size, size - 1))
        .collect();
    let uploaded = started.elapsed();
    let held = rss_kib(pid);
    let answers: Vec<_> = streams
        .into_iter()
        .map(|s| std::thread::spawn(move || timed_answer_of(s, Duration::from_secs(10))))
        .collect();
    let mut cut_off = Duration::ZERO;
    for answer in answers {
        let (status, text, at) = answer.join().unwrap();
        assert_eq!(status, 408, "{text}");
        assert!(text.contains("body-timeout"), "{text}");
        cut_off = cut_off.max(at - started);
    }
    assert!(
        cut_off < uploaded + Duration::from_secs(2) + Duration::from_secs(3),
        "cut off after {cut_off:?} (uploads took {uploaded:?})"
    );
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_kib(pid);
    eprintln!("VmRSS: {before} KiB before, {held} KiB while stalled, {after} KiB after");
    assert!(
        after < before + 40 * 1024,
        "memory did not return: {before} KiB before, {held} KiB held, {after} KiB after"
    );
    // The service still serves.
    assert_eq!(http(server.addr, "GET", "/healthz", &[], "").0, 200);
}

#[test]
fn a_thousand_open_connections_are_accepted_at_once() {
    // SAFETY: raising this process's own soft descriptor limit within its hard limit.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max.min(8192);
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    let db = TestDb::new();
    let server = Server::start_on(&db.url, &[("RUST_LOG", "warn")]);
    let idle: Vec<TcpStream> = (0..1000)
        .map(|i| {
            TcpStream::connect_timeout(&server.addr, Duration::from_secs(5))
                .unwrap_or_else(|e| panic!("connection {i}: {e}"))
        })
        .collect();
    // Each of them is served, not only queued.
    let mut served = 0;
    for mut stream in idle.into_iter().step_by(50) {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let (status, _) = answer_of(stream, Duration::from_secs(10));
        served += usize::from(status == 200);
    }
    assert_eq!(served, 20);
}

#[test]
fn malformed_http_gets_a_problem_where_the_server_can_shape_it() {
    let db = TestDb::new();
    let server = Server::start_on(&db.url, &[("RUST_LOG", "warn")]);
    let long = format!("/v1/subjects?email={}", "a".repeat(60 * 1024));
    let (status, text) = http(server.addr, "GET", &long, &[], "");
    assert_eq!(status, 414, "{text}");
    assert!(text.contains("application/problem+json") && text.contains("uri-too-long"));
    // A URL past 64 KiB, a bare CR or a NUL in a header is refused by the HTTP parser itself,
    // before the app sees a request: a bare 400 (see the README).
    let longer = format!(
        "GET /v1/subjects?email={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    for head in [
        longer.as_str(),
        "GET /healthz HTTP/1.1\r\nHost: x\rEvil: 1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let (status, text) = answer_of(stream, Duration::from_secs(10));
        assert_eq!(status, 400, "{text:?}");
    }
}

/// Every process of the cluster whose postmaster is `postmaster`.
fn cluster_pids(postmaster: u32) -> Vec<u32> {
    let mut pids = vec![postmaster];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The parent pid is the second field after the parenthesized command name.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(postmaster) {
            pids.push(pid);
        }
    }
    pids
}

fn signal(pids: &[u32], sig: libc::c_int) {
    for pid in pids {
        // SAFETY: signals only processes of the cluster this test started.
        unsafe {
            libc::kill(*pid as libc::pid_t, sig);
        }
    }
}

struct Call {
    kind: &'static str,
    status: u16,
    started: Instant,
    elapsed: Duration,
    request_id: String,
}

#[test]
fn a_frozen_database_gets_fast_503s_nothing_half_done_and_recovery() {
    let options = Options {
        root: crate::harness::scratch("freeze"),
        durable: false,
        remedy: "set TMPDIR to a directory you can write",
    };
    let pg = EmbeddedPostgres::start(&options).expect("start a private cluster");
    pg.ensure_database("freeze").unwrap();
    let url = pg.url("freeze");
    let budget = Duration::from_millis(2000);
    let server = Server::start_on(
        &url,
        &[
            ("DB_STATEMENT_TIMEOUT_MS", "2000"),
            ("DB_POOL_TIMEOUT_MS", "1500"),
            ("RUST_LOG", "warn"),
        ],
    );
    let addr = server.addr;
    let token = format!(
        "Bearer {}",
        token_for(
            "freezer",
            &[
                Scope::SubjectsRead,
                Scope::SubjectsWrite,
                Scope::ConsentsRead,
                Scope::ConsentsWrite
            ],
            None
        )
    );
    let subject_body = r#"{"kind":"client","given_name":"Mari","family_name":"Maasikas","source":{"type":"data_subject"}}"#;
    let subjects: Vec<String> = (0..4)
        .map(|_| {
            let (status, text) = http(
                addr,
                "POST",
                "/v1/subjects",
                &[
                    ("Authorization", &token),
                    ("Content-Type", "application/json"),
                ],
                subject_body,
            );
            assert_eq!(status, 201, "{text}");
            let at = text.find("\"id\":\"").unwrap() + 6;
            text[at..at + 36].to_owned()
        })
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(Mutex::new(Vec::<Call>::new()));
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (stop, calls, token, subjects) =
                (stop.clone(), calls.clone(), token.clone(), subjects.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let request_id = format!("freeze-{w}-{n}");
                    let subject = &subjects[n % subjects.len()];
                    let status = if n % 2 == 0 { "granted" } else { "withdrawn" };
                    let consent = format!(r#"{{"status":"{status}","method":"api"}}"#);
                    let (kind, method, path, body) = match (w + n) % 5 {
                        0 => (
                            "read",
                            "GET",
                            format!("/v1/subjects/{subject}"),
                            String::new(),
                        ),
                        1 => (
                            "consent",
                            "PUT",
                            format!("/v1/subjects/{subject}/consents/marketing_partners"),
                            consent,
                        ),
                        2 => (
                            "create",
                            "POST",
                            "/v1/subjects".to_owned(),
                            subject_body.to_owned(),
                        ),
                        3 => (
                            "consents",
                            "GET",
                            format!("/v1/subjects/{subject}/consents"),
                            String::new(),
                        ),
                        _ => ("ready", "GET", "/readyz".to_owned(), String::new()),
                    };
                    let started = Instant::now();
                    let (status, _) = http(
                        addr,
                        method,
                        &path,
                        &[
                            ("Authorization", &token),
                            ("X-Request-Id", &request_id),
                            ("Content-Type", "application/json"),
                        ],
                        &body,
                    );
                    calls.lock().unwrap().push(Call {
                        kind,
                        status,
                        started,
                        elapsed: started.elapsed(),
                        request_id,
                    });
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(1000));
    let postmaster: u32 = std::fs::read_to_string(options.root.join("pgdata/postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pids = cluster_pids(postmaster);
    signal(&pids, libc::SIGSTOP);
    let frozen_at = Instant::now();
    std::thread::sleep(Duration::from_secs(4));
    let thaw_begins = Instant::now();
    signal(&pids, libc::SIGCONT);
    let thawed_at = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }

    let calls = calls.lock().unwrap();
    let limit = budget + Duration::from_secs(1);
    for call in calls.iter() {
        assert!(
            matches!(call.status, 200 | 201 | 503),
            "{} answered {}",
            call.kind,
            call.status
        );
        let bound = if call.kind == "ready" {
            Duration::from_secs(2)
        } else {
            limit
        };
        assert!(
            call.elapsed < bound + Duration::from_millis(150),
            "{} {} took {:?}",
            call.kind,
            call.request_id,
            call.elapsed
        );
    }
    let during: Vec<&Call> = calls
        .iter()
        .filter(|c| {
            c.started > frozen_at + Duration::from_millis(100)
                && c.started + c.elapsed < thaw_begins
        })
        .collect();
    let answered: Vec<_> = during
        .iter()
        .filter(|c| c.status != 503)
        .map(|c| (c.kind, c.status, c.started - frozen_at, c.elapsed))
        .collect();
    assert!(
        !during.is_empty() && answered.is_empty(),
        "frozen but answered: {answered:?}"
    );
    // After the thaw (once the requests caught in the freeze have drained), all succeed, and
    // the first request that starts then already does.
    let after: Vec<&Call> = calls
        .iter()
        .filter(|c| c.started > thawed_at + Duration::from_millis(200))
        .collect();
    assert!(after.len() > 20, "too little load after the thaw");
    let failed: Vec<_> = after
        .iter()
        .filter(|c| c.status == 503)
        .map(|c| c.kind)
        .collect();
    assert!(failed.is_empty(), "no recovery after the thaw: {failed:?}");

    // Nothing half-done: every change has exactly its entry, every answered one its change.
    let mut conn = PgConnection::establish(&url).unwrap();
    let orphans = |sql: &str, conn: &mut PgConnection| -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
    };
    assert_eq!(orphans("SELECT count(*) AS n FROM subjects s WHERE (SELECT count(*) FROM access_log a WHERE a.subject_id = s.id AND a.action = 'subject.create') <> 1", &mut conn), 0);
    assert_eq!(orphans("SELECT count(*) AS n FROM access_log a WHERE a.action = 'subject.create' AND NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = a.subject_id)", &mut conn), 0);
    assert_eq!(orphans("SELECT count(*) AS n FROM consent_events e WHERE (SELECT count(*) FROM access_log a WHERE a.request_id = e.request_id AND a.action = 'consent.change') <> 1", &mut conn), 0);
    assert_eq!(orphans("SELECT count(*) AS n FROM access_log a WHERE a.action = 'consent.change' AND NOT EXISTS (SELECT 1 FROM consent_events e WHERE e.request_id = a.request_id)", &mut conn), 0);
    for call in calls
        .iter()
        .filter(|c| c.kind == "consent" && c.status == 200)
    {
        let sql = format!(
            "SELECT count(*) AS n FROM consent_events WHERE request_id = '{}'",
            call.request_id
        );
        assert_eq!(
            orphans(&sql, &mut conn),
            1,
            "{} answered 200 without its event",
            call.request_id
        );
    }
    let log = server.log_text();
    assert!(!log.contains("panicked"), "{log}");
    drop(server);
    drop(conn);
    pg.stop();
    let _ = std::fs::remove_dir_all(&options.root);
}

#[test]
fn the_first_request_after_the_database_restarted_succeeds() {
    let options = Options {
        root: crate::harness::scratch("restart"),
        durable: false,
        remedy: "set TMPDIR to a directory you can write",
    };
    let pg = EmbeddedPostgres::start(&options).expect("start a private cluster");
    pg.ensure_database("restart").unwrap();
    let server = Server::start_on(&pg.url("restart"), &[("RUST_LOG", "warn")]);
    let token = format!(
        "Bearer {}",
        token_for("restarter", &[Scope::SubjectsRead], None)
    );
    let path = format!("/v1/subjects/{}", uuid::Uuid::now_v7());
    // A read and its entry through the pool and the group commit: both hold connections.
    let read = || http(server.addr, "GET", &path, &[("Authorization", &token)], "").0;
    let list = || {
        http(
            server.addr,
            "GET",
            "/v1/subjects?limit=1",
            &[("Authorization", &token)],
            "",
        )
        .0
    };
    assert_eq!((read(), list()), (404, 200));
    pg.stop();
    let pg = EmbeddedPostgres::start(&options).expect("restart the cluster");
    assert_eq!(list(), 200, "the first request after the restart failed");
    assert_eq!(read(), 404);
    drop(server);
    pg.stop();
    let _ = std::fs::remove_dir_all(&options.root);
}
