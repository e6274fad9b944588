#!/usr/bin/env bash
# Measures the figures of closing the loop (contract v3, E) on a full-size table:
#   1. GET /v1/recipients/{id}/compliance for a recipient with N_NOTICES notices (80 % answered,
#      over the last year). Target < 500 ms.
#   2. GET /v1/privacy-requests/metrics over N_REQUESTS requests (90 % closed, over the last
#      year). Target < 1 s. Also times GET /metrics, whose histogram reads every closed request.
# Each endpoint is called RUNS times after one warm-up call; the script prints the median, p90
# and max of curl's total time.
#
#   bench/loop.sh [--bin PATH] [--notices N] [--requests N] [--runs N] [--port N]
#
# Runs the service in embedded mode (its own PostgreSQL under bench/out/loop-data, durable
# settings); the rows are inserted with SQL (generate_series), then VACUUM ANALYZE. Needs psql,
# curl and awk; builds the release binary unless --bin is given.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
DATA=${BENCH_LOOP_DIR:-$OUT/loop-data}
N_NOTICES=100000
N_REQUESTS=100000
RUNS=20
PORT=18280
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=${2:?}; shift ;;
    --notices) N_NOTICES=${2:?}; shift ;;
    --requests) N_REQUESTS=${2:?}; shift ;;
    --runs) RUNS=${2:?}; shift ;;
    --port) PORT=${2:?}; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
. "$ROOT/bench/lib.sh"
bench_build
bench_start_service loop RETENTION_AUTORUN=false

say "arranging: a recipient with $N_NOTICES notices, $N_REQUESTS privacy requests"
RECIPIENT=$(bench_recipient)
started=$SECONDS
scalar "INSERT INTO subjects (id, version, kind, source_type, created_at, updated_at)
          SELECT gen_random_uuid(), 1, 'client', 'data_subject', now(), now()
          FROM generate_series(1, $N_NOTICES);
        INSERT INTO notices (id, recipient_id, subject_id, type, status, created_at, outcome_due_on,
            outcome, completed_at, outcome_recorded_by, outcome_recorded_at)
          SELECT gen_random_uuid(), '$RECIPIENT', s.id,
            (ARRAY['subject.erased', 'subject.rectified', 'subject.restricted'])[1 + n % 3],
            'manual', q, (q + interval '14 days')::date,
            CASE WHEN n % 5 <> 0 THEN (ARRAY['done', 'not_held', 'refused'])[1 + n % 3] END,
            CASE WHEN n % 5 <> 0 THEN q + (n % 20) * interval '1 day' END,
            CASE WHEN n % 5 <> 0 THEN 'recipient' END,
            CASE WHEN n % 5 <> 0 THEN q + (n % 20) * interval '1 day' END
          FROM (SELECT id, row_number() OVER () AS n FROM subjects) s,
            LATERAL (SELECT now() - interval '365 days' + (s.n % 345) * interval '1 day' AS q) t;
        INSERT INTO privacy_requests (id, kind, channel, received_at, received_on, status,
            original_due_on, due_on, extended, extension_reason, outcome, closed_at, created_by,
            created_at, updated_at)
          SELECT gen_random_uuid(),
            (ARRAY['access', 'rectification', 'erasure', 'restriction', 'objection'])[1 + n % 5],
            'email', r, r::date, CASE WHEN n % 10 = 0 THEN 'open' ELSE 'closed' END,
            (r + interval '1 month')::date, (r + interval '1 month')::date, n % 7 = 0,
            CASE WHEN n % 7 = 0 THEN 'bench' END,
            CASE WHEN n % 10 <> 0 THEN (ARRAY['fulfilled', 'refused', 'withdrawn'])[1 + n % 3] END,
            CASE WHEN n % 10 <> 0 THEN r + (n % 60) * interval '1 day' END,
            'bench', now(), now()
          FROM generate_series(1, $N_REQUESTS) n,
            LATERAL (SELECT now() - interval '365 days' + (n % 300) * interval '1 day' AS r) t" >/dev/null
scalar "VACUUM ANALYZE notices" >/dev/null
scalar "VACUUM ANALYZE privacy_requests" >/dev/null
say "  inserted in $((SECONDS - started)) s"

# median, p90 and max (ms) of RUNS calls of a URL, after one warm-up call.
timed() {
  local url=$1 times
  api -o /dev/null "$url"
  times=$(for _ in $(seq 1 "$RUNS"); do
    curl -s -f -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$url"
  done | sort -n)
  echo "$times" | awk '{ms[NR] = $1 * 1000} END {
    printf "median %.1f ms, p90 %.1f ms, max %.1f ms (%d runs)", ms[int((NR + 1) / 2)],
      ms[int(NR * 0.9 + 0.999)], ms[NR], NR }'
}
FROM=$(date -u -d '400 days ago' +%F)
TO=$(date -u +%F)
COMPLIANCE=$(timed "$BASE/v1/recipients/$RECIPIENT/compliance?from=$FROM&to=$TO")
say "compliance over $N_NOTICES notices: $COMPLIANCE (target < 500 ms)"
METRICS=$(timed "$BASE/v1/privacy-requests/metrics?from=$FROM&to=$TO")
say "request metrics over $N_REQUESTS requests: $METRICS (target < 1 s)"
SCRAPE=$(timed "$BASE/metrics")
say "/metrics with the days-to-close histogram: $SCRAPE"
echo "loop bench ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uptime | sed 's/.*load average: //') load):" \
  "compliance $COMPLIANCE; metrics $METRICS; /metrics $SCRAPE"
