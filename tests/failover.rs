//! Failover (contract v3, F), with no cluster manager: a primary and a standby made with
//! `pg_basebackup`, the service on a libpq multi-host URL (`target_session_attrs=read-write`),
//! the primary stopped at once (`pg_ctl stop -m immediate`) and the standby promoted.
//!
//! - Synchronous standby, under writes and audited reads with idempotency keys: no acknowledged
//!   write or log entry is lost, retries answer as replays, `verify` is ok, the next checkpoint is
//!   consistent with the last (the outside `audit` says so) and no alarm stands.
//! - A commit waiting for a synchronous standby past the request's deadline (and past the
//!   statement timeout) is answered 503, stays invisible so unsealed, and its retry is a replay.
//! - Asynchronous standby whose WAL is held back: two instances both raise the alarm, neither
//!   signs a forked checkpoint, and `accept-rollback` lets them resume.

use crate::harness::{scratch, token_for, SECRET};
use crate::process::{http, Server};
use diesel::{Connection, PgConnection, RunQueryDsl};
use planpro_privacy::auth::Scope;
use planpro_privacy::db::embedded::{EmbeddedPostgres, Options};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_planpro-privacy");

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A primary and a streaming standby of it, each on its own Unix socket.
struct Pair {
    primary: EmbeddedPostgres,
    standby: PathBuf,
}

impl Pair {
    fn start(synchronous: bool) -> Self {
        // Short names: a Unix socket path holds at most 107 bytes.
        let root = scratch("fo");
        let primary = EmbeddedPostgres::start(&Options {
            root: root.join("p"),
            // Commits must really wait for the standby (the test clusters turn that off).
            durable: true,
            remedy: "set TMPDIR to a directory you can write",
        })
        .expect("start the primary");
        primary.ensure_database("planpro").unwrap();
        let standby = root.join("s");
        let owner = std::fs::metadata(primary.pgdata()).unwrap();
        for dir in [standby.clone(), standby.join("run")] {
            std::fs::create_dir_all(&dir).unwrap();
            std::os::unix::fs::chown(&dir, Some(owner.uid()), Some(owner.gid())).unwrap();
        }
        run(
            primary
                .tool("pg_basebackup")
                .arg("-D")
                .arg(standby.join("pgdata"))
                .args(["-X", "stream", "-c", "fast", "-R", "-d"])
                .arg(format!(
                    "host={} user=postgres application_name=standby1",
                    primary.socket_dir().display()
                )),
            "pg_basebackup",
        );
        let conf = standby.join("pgdata/postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(&format!(
            "unix_socket_directories = '{}'\n",
            standby.join("run").display()
        ));
        std::fs::write(&conf, text).unwrap();
        let pair = Self { primary, standby };
        run(
            pair.pg_ctl(&pair.standby_data())
                .arg("-l")
                .arg(pair.standby.join("postgres.log"))
                .args(["-w", "-t", "60", "start"]),
            "start the standby",
        );
        let mut conn = pair.primary_conn();
        if synchronous {
            diesel::sql_query("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query("SELECT pg_reload_conf()")
                .execute(&mut conn)
                .unwrap();
        }
        let wanted = if synchronous { "sync" } else { "async" };
        wait_until(Duration::from_secs(20), "the standby streams", || {
            scalar(
                &mut conn,
                "SELECT coalesce(max(sync_state), '') AS v FROM pg_stat_replication",
            ) == wanted
        });
        pair
    }

    fn standby_data(&self) -> PathBuf {
        self.standby.join("pgdata")
    }

    fn pg_ctl(&self, data: &Path) -> Command {
        let mut cmd = self.primary.tool("pg_ctl");
        cmd.arg("-D").arg(data);
        cmd
    }

    /// Both servers, the writable one chosen by libpq.
    fn url(&self) -> String {
        format!(
            "postgres://postgres@/planpro?host={},{}&target_session_attrs=read-write",
            self.primary.socket_dir().display(),
            self.standby.join("run").display()
        )
    }

    fn primary_conn(&self) -> PgConnection {
        PgConnection::establish(&self.primary.url("planpro")).expect("connect to the primary")
    }

    fn standby_url(&self) -> String {
        format!(
            "postgres://postgres@/planpro?host={}",
            self.standby.join("run").display()
        )
    }

    fn standby_conn(&self) -> PgConnection {
        PgConnection::establish(&self.standby_url()).expect("connect to the standby")
    }

    /// The primary dies at once; the standby becomes the primary.
    fn fail_over(&self) -> Instant {
        run(
            self.pg_ctl(&self.primary.pgdata())
                .args(["-m", "immediate", "stop"]),
            "stop the primary",
        );
        let at = Instant::now();
        run(
            self.pg_ctl(&self.standby_data()).args(["-w", "promote"]),
            "promote",
        );
        at
    }

    /// The standby stops receiving WAL (its walreceiver ends).
    fn hold_back_wal(&self) {
        let mut conn = self.standby_conn();
        diesel::sql_query("ALTER SYSTEM SET primary_conninfo = ''")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query("SELECT pg_reload_conf()")
            .execute(&mut conn)
            .unwrap();
        let mut primary = self.primary_conn();
        wait_until(Duration::from_secs(10), "the standby disconnects", || {
            scalar(
                &mut primary,
                "SELECT count(*)::text AS v FROM pg_stat_replication",
            ) == "0"
        });
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for data in [self.primary.pgdata(), self.standby_data()] {
            let _ = self
                .pg_ctl(&data)
                .args(["-m", "immediate", "stop"])
                .output();
        }
    }
}

fn scalar(conn: &mut PgConnection, sql: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    diesel::sql_query(sql)
        .get_result::<V>(conn)
        .map(|r| r.v)
        .unwrap_or_default()
}

fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn bearer() -> String {
    format!(
        "Bearer {}",
        token_for(
            "failover",
            &[
                Scope::SubjectsRead,
                Scope::SubjectsWrite,
                Scope::AccessLogsRead,
            ],
            None
        )
    )
}

fn body_of(text: &str) -> &str {
    text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn json_of(text: &str) -> serde_json::Value {
    serde_json::from_str(body_of(text)).unwrap_or(serde_json::Value::Null)
}

const SUBJECT: &str = r#"{"kind":"client","given_name":"Mari","family_name":"Maasikas","source":{"type":"data_subject"}}"#;

/// One create with an idempotency key: (status, subject id).
fn create(addr: std::net::SocketAddr, key: &str) -> (u16, Option<String>) {
    let (status, text) = http(
        addr,
        "POST",
        "/v1/subjects",
        &[
            ("Authorization", &bearer()),
            ("Content-Type", "application/json"),
            ("Idempotency-Key", key),
        ],
        SUBJECT,
    );
    let id = json_of(&text)["id"].as_str().map(str::to_owned);
    (status, id)
}

/// An audited read: (status of the read).
fn read(addr: std::net::SocketAddr, id: &str, request_id: &str) -> u16 {
    http(
        addr,
        "GET",
        &format!("/v1/subjects/{id}"),
        &[("Authorization", &bearer()), ("X-Request-Id", request_id)],
        "",
    )
    .0
}

fn get_text(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let (status, text) = http(addr, "GET", path, &[("Authorization", &bearer())], "");
    (status, body_of(&text).to_owned())
}

fn checkpoint_size(addr: std::net::SocketAddr) -> u64 {
    let (_, note) = get_text(addr, "/v1/access-logs/checkpoint");
    note.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

fn alarms(addr: std::net::SocketAddr) -> serde_json::Value {
    let (status, text) = http(addr, "GET", "/readyz", &[], "");
    if status != 200 {
        return serde_json::Value::Null;
    }
    json_of(&text)["alarms"].clone()
}

fn audit(addr: std::net::SocketAddr, state: &Path, accept: bool) -> Result<String, String> {
    let token = state.with_extension("token");
    std::fs::write(&token, bearer().trim_start_matches("Bearer ")).unwrap();
    let mut args: Vec<String> = [
        "--url",
        &format!("http://{addr}"),
        "--token-file",
        token.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if accept {
        args.push("--accept-rollbacks".into());
    }
    planpro_privacy::audit::audit(&args).map_err(|e| e.to_string())
}

struct Done {
    key: String,
    status: u16,
    id: Option<String>,
    reads: Vec<(String, u16)>,
    finished: Instant,
}

#[test]
fn a_failover_to_a_synchronous_standby_loses_no_acknowledged_write_or_entry() {
    let pair = Pair::start(true);
    let server = Server::start_on(&pair.url(), &[("RUST_LOG", "warn")]);
    let addr = server.addr;
    let auditor = scratch("auditor").join("state");
    // An instance that reaches only the standby is not ready, and a write there is a 503.
    let on_standby = Server::start_on(
        &pair.standby_url(),
        &[("RUST_LOG", "warn"), ("MIGRATE_ON_START", "false")],
    );
    let (status, text) = http(on_standby.addr, "GET", "/readyz", &[], "");
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("service-unavailable") && text.to_lowercase().contains("retry-after"),
        "{text}"
    );
    let (status, text) = http(
        on_standby.addr,
        "POST",
        "/v1/subjects",
        &[
            ("Authorization", &bearer()),
            ("Content-Type", "application/json"),
        ],
        SUBJECT,
    );
    assert_eq!(status, 503, "{text}");
    assert!(text.to_lowercase().contains("retry-after"), "{text}");
    drop(on_standby);
    // Load before the failover, then the auditor's first look.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(Mutex::new(Vec::<Done>::new()));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, done) = (stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let key = format!("w{w}-{i}");
                    let (status, id) = create(addr, &key);
                    let mut reads = Vec::new();
                    if let (201, Some(id)) = (status, &id) {
                        let rid = format!("read-{key}");
                        reads.push((rid.clone(), read(addr, id, &rid)));
                    }
                    done.lock().unwrap().push(Done {
                        key,
                        status,
                        id,
                        reads,
                        finished: Instant::now(),
                    });
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    wait_until(Duration::from_secs(10), "a checkpoint", || {
        checkpoint_size(addr) > 0
    });
    audit(addr, &auditor, false).expect("the first audit");
    let before = checkpoint_size(addr);
    let failed_at = pair.fail_over();
    // Writes go on against the new primary.
    let mut first_write_after = None;
    wait_until(
        Duration::from_secs(20),
        "a write on the new primary",
        || {
            let first = done
                .lock()
                .unwrap()
                .iter()
                .filter(|d| d.status == 201 && d.finished > failed_at)
                .map(|d| d.finished)
                .min();
            first_write_after = first.map(|f| f - failed_at);
            first.is_some()
        },
    );
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let done = std::mem::take(&mut *done.lock().unwrap());
    // Every request that was not acknowledged is retried with its key until it is; every
    // acknowledged one, retried, answers as a replay (the same subject).
    let mut ids = std::collections::BTreeMap::new();
    for d in &done {
        let (status, id) = loop {
            let (status, id) = create(addr, &d.key);
            if status == 201 || Instant::now() > failed_at + Duration::from_secs(40) {
                break (status, id);
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(status, 201, "the retry of {} answered {status}", d.key);
        if d.status == 201 {
            assert_eq!(id, d.id, "the retry of {} is a replay", d.key);
        } else {
            assert!(
                [503, 0].contains(&d.status),
                "{} answered {} during the failover",
                d.key,
                d.status
            );
        }
        ids.insert(d.key.clone(), id.unwrap());
    }
    let mut conn = pair.standby_conn();
    let subjects: i64 = scalar(&mut conn, "SELECT count(*)::text AS v FROM subjects")
        .parse()
        .unwrap();
    assert_eq!(
        subjects as usize,
        ids.len(),
        "one subject per key, none lost"
    );
    for id in ids.values() {
        assert_eq!(
            scalar(
                &mut conn,
                &format!("SELECT count(*)::text AS v FROM subjects WHERE id = '{id}'")
            ),
            "1"
        );
    }
    let acknowledged_reads: Vec<&String> = done
        .iter()
        .flat_map(|d| d.reads.iter())
        .filter(|(_, status)| *status == 200)
        .map(|(rid, _)| rid)
        .collect();
    assert!(!acknowledged_reads.is_empty());
    for rid in &acknowledged_reads {
        assert_ne!(
            scalar(
                &mut conn,
                &format!("SELECT count(*)::text AS v FROM access_log WHERE request_id = '{rid}' AND action = 'subject.read'")
            ),
            "0",
            "the entry of the acknowledged read {rid} survived"
        );
    }
    // The log verifies, a consistent checkpoint follows within 10 s, the auditor agrees.
    let (status, verify) = get_text(addr, "/v1/access-logs/verify");
    assert_eq!(status, 200, "{verify}");
    assert!(verify.contains("\"ok\":true"), "{verify}");
    let took = Instant::now();
    wait_until(
        Duration::from_secs(10),
        "a checkpoint after the failover",
        || checkpoint_size(addr) > before,
    );
    let audited = audit(addr, &auditor, false).expect("consistent after the failover");
    assert!(audited.starts_with("consistent"), "{audited}");
    assert_eq!(alarms(addr), serde_json::json!([]));
    eprintln!(
        "failover: {} keys, {} acknowledged before, first write {:?} after the stop, next checkpoint {:?} after the load",
        done.len(),
        done.iter().filter(|d| d.status == 201).count(),
        first_write_after,
        took.elapsed()
    );
}

#[test]
fn a_failover_to_a_standby_that_missed_commits_raises_the_alarm_in_both_instances_and_signs_no_fork(
) {
    let pair = Pair::start(false);
    let dirs = [scratch("instance-a"), scratch("instance-b")];
    let servers: Vec<Server> = dirs
        .iter()
        .map(|dir| {
            Server::start_on(
                &pair.url(),
                &[("RUST_LOG", "off"), ("DATA_DIR", dir.to_str().unwrap())],
            )
        })
        .collect();
    let (a, b) = (servers[0].addr, servers[1].addr);
    let mut next = 0;
    let mut load = |addr, n: usize| {
        for _ in 0..n {
            next += 1;
            let (status, id) = create(addr, &format!("k{next}"));
            if let (201, Some(id)) = (status, id) {
                read(addr, &id, &format!("r{next}"));
            }
        }
    };
    load(a, 3);
    load(b, 3);
    wait_until(Duration::from_secs(10), "a checkpoint", || {
        checkpoint_size(a) > 0
    });
    let auditor = scratch("auditor").join("state");
    pair.hold_back_wal();
    load(a, 4);
    load(b, 4);
    // Both instances record the checkpoint the standby will never have.
    let mut primary = pair.primary_conn();
    let entries: u64 = scalar(&mut primary, "SELECT count(*)::text AS v FROM access_log")
        .parse()
        .unwrap();
    drop(primary);
    let mut held = 0;
    wait_until(Duration::from_secs(10), "both instances serve it", || {
        held = checkpoint_size(a);
        held >= entries && checkpoint_size(b) == held
    });
    audit(a, &auditor, false).expect("the auditor's look before the failover");
    let newest = |dir: &PathBuf| {
        std::fs::read_to_string(dir.join("checkpoints/newest.json")).unwrap_or_default()
    };
    wait_until(Duration::from_secs(5), "B's record", || {
        newest(&dirs[1]).contains(&format!("\\n{held}\\n"))
    });
    let mut standby = pair.standby_conn();
    let standby_checkpoints = scalar(
        &mut standby,
        "SELECT count(*)::text AS v FROM access_log_checkpoint",
    );
    drop(standby);
    pair.fail_over();
    // The new primary takes writes; the log grows past what was lost; both raise the alarm.
    let promoted = Instant::now();
    wait_until(Duration::from_secs(20), "writes on the new primary", || {
        create(a, &format!("after-{}", promoted.elapsed().as_millis())).0 == 201
    });
    let writable = Instant::now();
    load(a, 10);
    load(b, 10);
    for addr in [a, b] {
        wait_until(Duration::from_secs(10), "the alarm", || {
            alarms(addr) == serde_json::json!(["checkpoints-refused"])
        });
    }
    let alarm_after = writable.elapsed();
    std::thread::sleep(Duration::from_millis(1500));
    let mut conn = pair.standby_conn();
    assert_eq!(
        scalar(
            &mut conn,
            "SELECT count(*)::text AS v FROM access_log_checkpoint"
        ),
        standby_checkpoints,
        "no checkpoint was signed over the lost entries"
    );
    for addr in [a, b] {
        assert_eq!(
            checkpoint_size(addr),
            held,
            "the last consistent checkpoint is served"
        );
    }
    assert!(
        servers[0].log_text().contains("ALARM"),
        "the ALARM line shows under RUST_LOG=off"
    );
    let audited = audit(a, &auditor, false);
    assert!(
        audited.is_ok(),
        "the served checkpoint is still the consistent one: {audited:?}"
    );
    // The operator accepts the rollback, naming the log's size; signing resumes everywhere.
    let size = scalar(&mut conn, "SELECT count(*)::text AS v FROM access_log_leaf");
    let accept = |size: &str| {
        Command::new(BIN)
            .args([
                "accept-rollback",
                "--size",
                size,
                "--reason",
                "failover to a standby that missed commits",
            ])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(crate::harness::test_env())
            .env("DATABASE_URL", pair.url())
            .env("DATA_DIR", &dirs[0])
            .env("JWT_SECRET", SECRET)
            .output()
            .unwrap()
    };
    let wrong = accept("1");
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("--size"),
        "{wrong:?}"
    );
    let mut right = accept(&size);
    if !right.status.success() {
        // Entries chained meanwhile moved the size on: the refusal names the new one.
        let size = scalar(&mut conn, "SELECT count(*)::text AS v FROM access_log_leaf");
        right = accept(&size);
    }
    assert!(right.status.success(), "{right:?}");
    for addr in [a, b] {
        wait_until(Duration::from_secs(10), "the alarm ends", || {
            alarms(addr) == serde_json::json!([])
        });
    }
    load(a, 2);
    wait_until(
        Duration::from_secs(10),
        "a checkpoint of the new epoch",
        || checkpoint_size(a) > size.parse::<u64>().unwrap(),
    );
    let refused = audit(a, &auditor, false).unwrap_err();
    assert!(refused.contains("rollback statement"), "{refused}");
    let accepted = audit(a, &auditor, true).expect("accepted with --accept-rollbacks");
    assert!(accepted.contains("accepted"), "{accepted}");
    eprintln!("async failover: alarm {alarm_after:?} after the new primary took writes");
}

#[test]
fn a_commit_whose_standby_wait_outlasts_the_deadline_is_a_503_and_stays_unsealed() {
    let root = scratch("sr");
    let primary = EmbeddedPostgres::start(&Options {
        root: root.join("p"),
        durable: true,
        remedy: "set TMPDIR to a directory you can write",
    })
    .expect("start a primary");
    primary.ensure_database("planpro").unwrap();
    let server = Server::start_on(
        &primary.url("planpro"),
        &[("RUST_LOG", "warn"), ("DB_STATEMENT_TIMEOUT_MS", "1000")],
    );
    let addr = server.addr;
    assert_eq!(create(addr, "before").0, 201);
    let mut conn = PgConnection::establish(&primary.url("planpro")).unwrap();
    let set = |conn: &mut PgConnection, names: &str| {
        diesel::sql_query(format!(
            "ALTER SYSTEM SET synchronous_standby_names = '{names}'"
        ))
        .execute(conn)
        .unwrap();
        diesel::sql_query("SELECT pg_reload_conf()")
            .execute(conn)
            .unwrap();
    };
    // A synchronous standby that never confirms: every commit waits for it.
    set(&mut conn, "ghost");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let (status, _) = create(addr, "waiting");
    assert_eq!(
        status, 503,
        "never a 2xx for a commit the standby does not hold"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // Past the statement timeout the commit still waits: it is not visible, so not sealed.
    std::thread::sleep(Duration::from_millis(2000));
    let count = |conn: &mut PgConnection| scalar(conn, "SELECT count(*)::text AS v FROM subjects");
    assert_eq!(count(&mut conn), "1", "the waiting commit stays invisible");
    assert_eq!(
        scalar(
            &mut conn,
            "SELECT count(*)::text AS v FROM access_log WHERE action = 'subject.create'"
        ),
        "1"
    );
    // The standby confirms (here: none is required any more); the retry is a replay.
    set(&mut conn, "");
    wait_until(Duration::from_secs(10), "the commit completes", || {
        count(&mut conn) == "2"
    });
    let (status, first) = create(addr, "waiting");
    assert_eq!(status, 201);
    let (status, again) = create(addr, "waiting");
    assert_eq!((status, first), (201, again));
    assert_eq!(
        count(&mut conn),
        "2",
        "the retry did not create a second subject"
    );
    drop(server);
    primary.stop();
}
