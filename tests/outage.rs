//! The database goes away under load and comes back: requests meanwhile get a fast 503, nothing
//! panics, the service recovers without a restart, and every read that returned data was logged.

use crate::harness::token_for;
use crate::process::{http, Server};
use diesel::{Connection, PgConnection, RunQueryDsl};
use planpro_privacy::auth::Scope;
use planpro_privacy::db::embedded::{EmbeddedPostgres, Options};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Outcome {
    status: u16,
    elapsed: Duration,
    request_id: String,
}

#[test]
fn a_database_outage_under_load_is_survived_without_losing_an_entry() {
    let options = Options {
        root: crate::harness::scratch("outage"),
        durable: false,
        remedy: "set TMPDIR to a directory you can write",
    };
    let pg = EmbeddedPostgres::start(&options).expect("start a private cluster");
    pg.ensure_database("outage").unwrap();
    let url = pg.url("outage");
    let server = Server::start_on(
        &url,
        &[("DB_POOL_TIMEOUT_MS", "1000"), ("RUST_LOG", "info")],
    );
    let addr = server.addr;
    let token = format!(
        "Bearer {}",
        token_for("outage-reader", &[Scope::AccessLogsRead], None)
    );

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (stop, outcomes, token) = (stop.clone(), outcomes.clone(), token.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let request_id = format!("outage-{w}-{n}");
                    let subject = uuid::Uuid::now_v7();
                    let started = Instant::now();
                    let (status, _) = http(
                        addr,
                        "GET",
                        &format!("/v1/subjects/{subject}/access-logs"),
                        &[("Authorization", &token), ("X-Request-Id", &request_id)],
                        "",
                    );
                    outcomes.lock().unwrap().push(Outcome {
                        status,
                        elapsed: started.elapsed(),
                        request_id,
                    });
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(800));
    pg.stop();
    let down_at = outcomes.lock().unwrap().len();
    std::thread::sleep(Duration::from_secs(4));
    let pg = EmbeddedPostgres::start(&options).expect("restart the cluster");
    let up_at = outcomes.lock().unwrap().len();
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }

    let outcomes = outcomes.lock().unwrap();
    let statuses: Vec<u16> = outcomes.iter().map(|o| o.status).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "unexpected statuses: {:?}",
        {
            let mut odd: Vec<_> = statuses
                .iter()
                .filter(|s| **s != 200 && **s != 503)
                .collect();
            odd.dedup();
            odd
        }
    );
    assert!(
        statuses[..down_at].contains(&200),
        "nothing succeeded before the outage"
    );
    assert!(
        statuses[down_at..up_at].contains(&503),
        "the outage was not noticed"
    );
    let slowest = outcomes.iter().map(|o| o.elapsed).max().unwrap();
    assert!(
        slowest < Duration::from_secs(5),
        "a request hung for {slowest:?}"
    );
    let tail = &statuses[statuses.len().saturating_sub(20)..];
    assert!(
        tail.iter().all(|s| *s == 200),
        "no recovery after the database returned: {tail:?}"
    );

    // Every read that returned data has its entry.
    let mut conn = PgConnection::establish(&url).unwrap();
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        request_id: String,
    }
    let logged: std::collections::HashSet<String> =
        diesel::sql_query("SELECT request_id FROM access_log WHERE actor = 'outage-reader'")
            .load::<Id>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.request_id)
            .collect();
    let missing: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.status == 200 && !logged.contains(&o.request_id))
        .map(|o| o.request_id.as_str())
        .collect();
    assert!(missing.is_empty(), "answered without an entry: {missing:?}");
    let log = server.log_text();
    assert!(!log.contains("panicked"), "{log}");
    drop(server);
    pg.stop();
    let _ = std::fs::remove_dir_all(&options.root);
}
