//! Several instances on one database: singleton jobs run in one instance at a time, and two
//! service processes under mixed load chain every entry exactly once.

use crate::harness::{token_for, TestDb};
use crate::process::{http, Server};
use diesel::Connection;
use planpro_privacy::auth::Scope;
use planpro_privacy::db::singleton::{self, Singleton};
use std::time::{Duration, Instant};

#[test]
fn a_singleton_job_is_held_by_one_connection_at_a_time() {
    let db = TestDb::new();
    let (mut first, mut second) = (db.conn(), db.conn());
    first
        .transaction::<_, diesel::result::Error, _>(|first| {
            assert!(singleton::try_hold(first, Singleton::Sealer)?);
            second.transaction::<_, diesel::result::Error, _>(|second| {
                assert!(!singleton::try_hold(second, Singleton::Sealer)?);
                // Another job is another lock.
                assert!(singleton::try_hold(second, Singleton::IdempotencyPurge)?);
                Ok(())
            })
        })
        .unwrap();
    // The lock ended with its transaction.
    second
        .transaction::<_, diesel::result::Error, _>(|second| {
            assert!(singleton::try_hold(second, Singleton::Sealer)?);
            Ok(())
        })
        .unwrap();
}

#[test]
fn two_instances_under_mixed_load_chain_every_entry_once_and_verify() {
    let db = TestDb::new();
    let servers = [
        Server::start_on(&db.url, &[("RUST_LOG", "warn")]),
        Server::start_on(&db.url, &[("RUST_LOG", "warn")]),
    ];
    let addrs: Vec<_> = servers.iter().map(|s| s.addr).collect();
    let token = format!(
        "Bearer {}",
        token_for(
            "two",
            &[
                Scope::SubjectsRead,
                Scope::SubjectsWrite,
                Scope::ConsentsRead,
                Scope::ConsentsWrite,
                Scope::AccessLogsRead,
            ],
            None
        )
    );
    let body = r#"{"kind":"client","given_name":"Mari","family_name":"Maasikas","source":{"type":"data_subject"}}"#;
    let json = [("Content-Type", "application/json")];
    let (status, text) = http(
        addrs[0],
        "POST",
        "/v1/subjects",
        &[("Authorization", &token), json[0]],
        body,
    );
    assert_eq!(status, 201, "{text}");
    let at = text.find("\"id\":\"").unwrap() + 6;
    let subject = text[at..at + 36].to_owned();
    let until = Instant::now() + Duration::from_secs(4);
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (token, subject, addr) = (token.clone(), subject.clone(), addrs[w % 2]);
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                let mut n = 0;
                while Instant::now() < until {
                    n += 1;
                    let consent = format!(
                        r#"{{"status":"{}","method":"api"}}"#,
                        if n % 2 == 0 { "granted" } else { "withdrawn" }
                    );
                    let (method, path, body) = match (w + n) % 4 {
                        0 => ("GET", format!("/v1/subjects/{subject}"), String::new()),
                        1 => (
                            "PUT",
                            format!("/v1/subjects/{subject}/consents/marketing_partners"),
                            consent,
                        ),
                        2 => ("POST", "/v1/subjects".to_owned(), body.to_owned()),
                        _ => (
                            "GET",
                            format!("/v1/subjects/{subject}/consents"),
                            String::new(),
                        ),
                    };
                    let headers = [
                        ("Authorization", token.as_str()),
                        ("Content-Type", "application/json"),
                    ];
                    statuses.push(http(addr, method, &path, &headers, &body).0);
                }
                statuses
            })
        })
        .collect();
    let statuses: Vec<u16> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(statuses.len() > 100, "too little load: {}", statuses.len());
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 201)),
        "{statuses:?}"
    );

    // Both sealers ran; wait until everything committed is chained.
    let deadline = Instant::now() + Duration::from_secs(10);
    let unchained = "SELECT 1 FROM access_log a LEFT JOIN access_log_chain c ON c.entry_seq = a.seq WHERE c.pos IS NULL";
    while db.count(unchained) > 0 {
        assert!(Instant::now() < deadline, "entries left unchained");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        db.count("SELECT entry_seq FROM access_log_chain GROUP BY entry_seq HAVING count(*) > 1"),
        0,
        "an entry was chained twice"
    );
    let entries = db.count("SELECT 1 FROM access_log");
    assert_eq!(
        db.scalar("SELECT max(pos) FROM access_log_chain"),
        entries.to_string()
    );
    for addr in &addrs {
        let (status, text) = http(
            *addr,
            "GET",
            "/v1/access-logs/verify",
            &[("Authorization", &token)],
            "",
        );
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("\"ok\":true"), "{text}");
    }
}
