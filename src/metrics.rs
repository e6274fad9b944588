//! Prometheus metrics: request counts and latency histograms per route and status, database
//! errors, pool usage, access-log writer and notice delivery figures. Process-wide, since one process serves one
//! app. Kept in `prometheus-client`'s registry, which also writes the exposition (OpenMetrics
//! text), so that escaping, types and histogram series are its job, not ours; a scraper that
//! does not ask for OpenMetrics gets Prometheus's classic text format made from it.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Duration;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type of [`classic`]'s text.
pub const CLASSIC_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// True when an `Accept` header prefers OpenMetrics (as Prometheus's own scraper does) to the
/// classic text, which is the default.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    let offered = ["text/plain", "application/openmetrics-text"];
    crate::media_type::preferred(accept, &offered) == Some("application/openmetrics-text")
}

/// Prometheus's classic text format (0.0.4) of an OpenMetrics exposition: a counter's `HELP` and
/// `TYPE` name its `_total` series, and there is no `UNIT` or `EOF` line.
pub fn classic(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let mut words = line.splitn(4, ' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("#"), Some(kind @ ("HELP" | "TYPE")), Some(name), rest)
                if counters.contains(name) =>
            {
                out.push_str(&format!("# {kind} {name}_total"));
                if let Some(rest) = rest {
                    out.push(' ');
                    out.push_str(rest);
                }
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A request's labels: the route template, never the raw path, so the series stay bounded.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RequestLabels, Histogram, fn() -> Histogram>,
    db_errors: Counter,
    log_commits: Counter,
    log_entries: Counter,
    pool_open: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    notices_delivered: Counter,
    notice_attempts_failed: Counter,
    purpose_unbound_reads: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let m = Metrics {
        registry: Registry::default(),
        requests: Family::default(),
        durations: Family::new_with_constructor(latency_histogram),
        db_errors: Counter::default(),
        log_commits: Counter::default(),
        log_entries: Counter::default(),
        pool_open: Gauge::default(),
        pool_idle: Gauge::default(),
        pool_max: Gauge::default(),
        notices_delivered: Counter::default(),
        notice_attempts_failed: Counter::default(),
        purpose_unbound_reads: Counter::default(),
    };
    let mut registry = Registry::default();
    // Counters gain their `_total` suffix from the registry.
    registry.register(
        "http_requests",
        "Requests by method, route template and status",
        m.requests.clone(),
    );
    registry.register(
        "http_request_duration_seconds",
        "Request latency by method, route template and status",
        m.durations.clone(),
    );
    registry.register(
        "db_pool_connections",
        "Open database connections",
        m.pool_open.clone(),
    );
    registry.register(
        "db_pool_idle_connections",
        "Idle database connections",
        m.pool_idle.clone(),
    );
    registry.register(
        "db_pool_max_connections",
        "Configured pool size",
        m.pool_max.clone(),
    );
    registry.register(
        "db_errors",
        "Database errors: lost connections, pool timeouts, failed queries",
        m.db_errors.clone(),
    );
    registry.register(
        "access_log_commits",
        "Group commits of access-log entries",
        m.log_commits.clone(),
    );
    registry.register(
        "access_log_entries",
        "Access-log entries written by group commit",
        m.log_entries.clone(),
    );
    registry.register(
        "notices_delivered",
        "Notices a recipient's webhook accepted (2xx), by this process",
        m.notices_delivered.clone(),
    );
    registry.register(
        "notice_attempts_failed",
        "Notice delivery attempts that failed (no answer or not 2xx), by this process",
        m.notice_attempts_failed.clone(),
    );
    registry.register(
        "purpose_unbound_reads",
        "Staff reads served that named no active processing activity (PURPOSE_ENFORCEMENT=warn), by this process",
        m.purpose_unbound_reads.clone(),
    );
    Metrics { registry, ..m }
});

/// Records one finished request under its route template (never the raw path).
pub fn record_request(method: &'static str, route: &'static str, status: u16, elapsed: Duration) {
    let labels = RequestLabels {
        method,
        route,
        status,
    };
    METRICS.requests.get_or_create(&labels).inc();
    METRICS
        .durations
        .get_or_create(&labels)
        .observe(elapsed.as_secs_f64());
}

/// Counts a database error (lost connection, pool timeout, failed query).
pub fn record_db_error() {
    METRICS.db_errors.inc();
}

/// Counts one group commit of the access log and the entries it carried.
pub fn record_log_batch(entries: usize) {
    METRICS.log_commits.inc();
    METRICS.log_entries.inc_by(entries as u64);
}

/// Counts a staff read served without naming an active processing activity.
pub fn record_unbound_read() {
    METRICS.purpose_unbound_reads.inc();
}

/// Counts one notice delivery attempt.
pub fn record_notice_attempt(delivered: bool) {
    if delivered {
        METRICS.notices_delivered.inc();
    } else {
        METRICS.notice_attempts_failed.inc();
    }
}

/// What `/metrics` shows of a task.
#[derive(Debug, Clone, Default)]
pub struct TaskStatus {
    /// When its last activation began.
    pub last_run: Option<std::time::SystemTime>,
    /// How long its last activation took.
    pub last_duration: Duration,
    /// Activations so far.
    pub runs: u64,
    /// Activations that failed so far.
    pub failures: u64,
    /// The error of the last failed activation.
    pub last_error: Option<String>,
}

/// A gauge read at each scrape from elsewhere (such as the database): name, help, value.
pub type ScrapedGauge = (&'static str, &'static str, i64);

/// A histogram read at each scrape from the database, labelled by `kind`: for each kind, the
/// observed values with how many times each was observed.
pub struct ScrapedHistogram {
    pub name: &'static str,
    pub help: &'static str,
    pub buckets: &'static [f64],
    pub series: Vec<(String, Vec<(f64, u64)>)>,
}

/// The label of a scraped histogram's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

/// Registers a scraped histogram in `registry` (a kind with no value still has its series).
fn register_scraped(registry: &mut Registry, scraped: &ScrapedHistogram) {
    let buckets = scraped.buckets;
    let family: Family<KindLabel, Histogram, _> =
        Family::new_with_constructor(move || Histogram::new(buckets.iter().copied()));
    for (kind, values) in &scraped.series {
        let histogram = family.get_or_create(&KindLabel { kind: kind.clone() });
        for (value, count) in values {
            for _ in 0..*count {
                histogram.observe(*value);
            }
        }
    }
    registry.register(scraped.name, scraped.help, family);
}

/// The exposition of every metric, with the pool figures as of now and the gauges `scraped`.
pub fn render(
    pool_connections: u32,
    pool_idle: u32,
    pool_max: u32,
    scraped: &[ScrapedGauge],
    histograms: &[ScrapedHistogram],
    tasks: &[(&'static str, TaskStatus)],
) -> String {
    use prometheus_client::encoding::text::{encode_eof, encode_registry};
    METRICS.pool_open.set(i64::from(pool_connections));
    METRICS.pool_idle.set(i64::from(pool_idle));
    METRICS.pool_max.set(i64::from(pool_max));
    let mut now = Registry::default();
    for (name, help, value) in scraped {
        let gauge: Gauge = Gauge::default();
        gauge.set(*value);
        now.register(*name, *help, gauge);
    }
    for histogram in histograms {
        register_scraped(&mut now, histogram);
    }
    register_tasks(&mut now, tasks);
    let mut out = String::new();
    let encoded = encode_registry(&mut out, &METRICS.registry)
        .and_then(|()| encode_registry(&mut out, &now))
        .and_then(|()| encode_eof(&mut out));
    if encoded.is_err() {
        log::warn!("metrics could not be encoded");
    }
    out
}

/// The background tasks' figures: when each last ran, how long it took, its runs and failures,
/// and its last error (as a label of an info gauge).
fn register_tasks(now: &mut Registry, tasks: &[(&'static str, TaskStatus)]) {
    type Labels = Vec<(&'static str, String)>;
    let last_run = Family::<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    let duration = Family::<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    let runs = Family::<Labels, Gauge>::default();
    let failures = Family::<Labels, Gauge>::default();
    let errors = Family::<Labels, Gauge>::default();
    for (name, status) in tasks {
        let task: Labels = vec![("task", (*name).to_string())];
        if let Some(at) = status.last_run {
            let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            last_run.get_or_create(&task).set(since.as_secs_f64());
        }
        duration
            .get_or_create(&task)
            .set(status.last_duration.as_secs_f64());
        runs.get_or_create(&task)
            .set(i64::try_from(status.runs).unwrap_or(i64::MAX));
        failures
            .get_or_create(&task)
            .set(i64::try_from(status.failures).unwrap_or(i64::MAX));
        if let Some(error) = &status.last_error {
            let mut labels = task.clone();
            labels.push(("error", error.chars().take(200).collect()));
            errors.get_or_create(&labels).set(1);
        }
    }
    now.register(
        "background_task_last_run_timestamp_seconds",
        "When each background task's last activation began",
        last_run,
    );
    now.register(
        "background_task_last_duration_seconds",
        "How long each background task's last activation took",
        duration,
    );
    now.register(
        "background_task_activations",
        "Activations of each background task so far",
        runs,
    );
    now.register(
        "background_task_failed_activations",
        "Failed activations of each background task so far",
        failures,
    );
    now.register(
        "background_task_last_error",
        "The last error of a background task (1, with the error as a label)",
        errors,
    );
}
