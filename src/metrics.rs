//! Prometheus metrics: request counts and latency histograms per route and status, database
//! errors, pool usage and access-log writer figures. Process-wide, since one process serves one app.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    total: u64,
    sum: f64,
}

type Key = (&'static str, &'static str, u16);

static REQUESTS: Mutex<BTreeMap<Key, Histogram>> = Mutex::new(BTreeMap::new());
static DB_ERRORS: AtomicU64 = AtomicU64::new(0);
static LOG_BATCHES: AtomicU64 = AtomicU64::new(0);
static LOG_ENTRIES: AtomicU64 = AtomicU64::new(0);

/// Records one finished request under its route template (never the raw path).
pub fn record_request(method: &'static str, route: &'static str, status: u16, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    let Ok(mut map) = REQUESTS.lock() else { return };
    let h = map.entry((method, route, status)).or_default();
    for (i, bound) in BUCKETS.iter().enumerate() {
        if seconds <= *bound {
            h.counts[i] += 1;
        }
    }
    h.total += 1;
    h.sum += seconds;
}

/// Counts a database error (lost connection, pool timeout, failed query).
pub fn record_db_error() {
    DB_ERRORS.fetch_add(1, Ordering::Relaxed);
}

/// Counts one group commit of the access log and the entries it carried.
pub fn record_log_batch(entries: usize) {
    LOG_BATCHES.fetch_add(1, Ordering::Relaxed);
    LOG_ENTRIES.fetch_add(entries as u64, Ordering::Relaxed);
}

/// The Prometheus text exposition of every metric.
pub fn render(pool_connections: u32, pool_idle: u32, pool_max: u32) -> String {
    let mut out = String::new();
    out.push_str("# HELP http_requests_total Requests by method, route template and status.\n");
    out.push_str("# TYPE http_requests_total counter\n");
    let map = REQUESTS.lock().map(|m| {
        m.iter()
            .map(|(k, h)| (*k, h.counts, h.total, h.sum))
            .collect::<Vec<_>>()
    });
    let rows = map.unwrap_or_default();
    for ((method, route, status), _, total, _) in &rows {
        let _ = writeln!(
            out,
            "http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {total}"
        );
    }
    out.push_str("# HELP http_request_duration_seconds Request latency by method, route template and status.\n");
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    for ((method, route, status), counts, total, sum) in &rows {
        let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
        for (bound, count) in BUCKETS.iter().zip(counts.iter()) {
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {total}"
        );
        let _ = writeln!(out, "http_request_duration_seconds_sum{{{labels}}} {sum}");
        let _ = writeln!(
            out,
            "http_request_duration_seconds_count{{{labels}}} {total}"
        );
    }
    let gauges = [
        (
            "db_pool_connections",
            "Open database connections.",
            pool_connections,
        ),
        (
            "db_pool_idle_connections",
            "Idle database connections.",
            pool_idle,
        ),
        ("db_pool_max_connections", "Configured pool size.", pool_max),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    let counters = [
        (
            "db_errors_total",
            "Database errors: lost connections, pool timeouts, failed queries.",
            &DB_ERRORS,
        ),
        (
            "access_log_commits_total",
            "Group commits of access-log entries.",
            &LOG_BATCHES,
        ),
        (
            "access_log_entries_total",
            "Access-log entries written by group commit.",
            &LOG_ENTRIES,
        ),
    ];
    for (name, help, value) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            value.load(Ordering::Relaxed)
        );
    }
    out
}
