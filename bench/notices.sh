#!/usr/bin/env bash
# Measures notice delivery (issue 14) against a local webhook receiver:
#   1. latency: N_LATENCY consent withdrawals through the API, one at a time, each queuing one
#      notice; p50/p99 of (arrival at the receiver − the notice's created_at, which is the start
#      of the change's transaction, so slightly more than commit → first attempt). Target p99 < 1 s.
#   2. throughput: N_BULK pending notices (distinct subjects, one recipient) inserted at once;
#      deliveries per second from the first attempt to the last delivery. Target ≥ 500/s.
#
#   bench/notices.sh [--bin PATH] [--latency N] [--bulk N] [--port N]
#
# Runs the service in embedded mode (its own PostgreSQL under bench/out/notices-data, durable
# settings) with WEBHOOK_ALLOW_PRIVATE=true so that it may post to 127.0.0.1. Needs psql, curl
# and awk; builds the release binary and the receiver (examples/webhook_receiver.rs) unless
# --bin is given (the receiver is then looked for beside it, under examples/).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
DATA=${BENCH_NOTICES_DIR:-$OUT/notices-data}
N_LATENCY=300
N_BULK=20000
PORT=18180
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=${2:?}; shift ;;
    --latency) N_LATENCY=${2:?}; shift ;;
    --bulk) N_BULK=${2:?}; shift ;;
    --port) PORT=${2:?}; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
. "$ROOT/bench/lib.sh"
bench_build --example webhook_receiver
RECEIVER=$(dirname "$BIN")/examples/webhook_receiver
[ -x "$RECEIVER" ] || { echo "no receiver at $RECEIVER" >&2; exit 2; }
ARRIVALS=$OUT/notice-arrivals.txt
RECV_PORT=$((PORT + 10))
mkdir -p "$OUT"
"$RECEIVER" "127.0.0.1:$RECV_PORT" "$ARRIVALS" &
BENCH_PIDS+=($!)
bench_start_service notices WEBHOOK_ALLOW_PRIVATE=true

say "arranging: one recipient with a webhook, $((N_LATENCY + N_BULK)) subjects it received"
RECIPIENT=$(bench_recipient)
api -X POST "$BASE/v1/recipients/$RECIPIENT/webhooks" \
  -d "{\"url\":\"http://127.0.0.1:$RECV_PORT/hook\"}" >/dev/null
scalar "INSERT INTO subjects (id, version, kind, source_type, created_at, updated_at)
        SELECT gen_random_uuid(), 1, 'client', 'data_subject', now(), now()
        FROM generate_series(1, $((N_LATENCY + N_BULK))) n;
        INSERT INTO disclosures (id, subject_id, recipient_id, data_categories, channel, authorization_ids, actor, at, request_id)
        SELECT gen_random_uuid(), id, '$RECIPIENT', ARRAY['contact'], 'email', '{}', 'bench', now(), 'bench'
        FROM subjects;" >/dev/null

say "latency: $N_LATENCY consent withdrawals, one at a time"
scalar "SELECT id FROM subjects ORDER BY id LIMIT $N_LATENCY" >"$OUT/notice-subjects.txt"
while read -r s; do
  api -o /dev/null -X PUT "$BASE/v1/subjects/$s/consents/marketing_planpro" \
    -d '{"status":"withdrawn","method":"api"}'
done <"$OUT/notice-subjects.txt"
for _ in $(seq 1 100); do
  [ "$(scalar "SELECT count(*) FROM notices WHERE status = 'pending'")" = 0 ] && break
  sleep 0.2
done
load_arrivals() {
  scalar "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS bench_arrivals (id uuid, micros bigint); TRUNCATE bench_arrivals" >/dev/null
  psql -h "$SOCK" -U postgres -X -q -v ON_ERROR_STOP=1 planpro \
    -c "\\copy bench_arrivals FROM '$ARRIVALS' WITH (FORMAT text, DELIMITER ' ')"
}
load_arrivals
LATENCY=$(scalar "WITH d AS (
    SELECT (min(a.micros) - extract(epoch FROM n.created_at) * 1e6) / 1000.0 AS ms
    FROM notices n JOIN bench_arrivals a ON a.id = n.id GROUP BY n.id, n.created_at)
  SELECT count(*) || ' notices: p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1)
    || ' ms, p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)
    || ' ms, max ' || round(max(ms)::numeric, 1) || ' ms' FROM d")
say "  $LATENCY"

say "throughput: $N_BULK notices queued at once"
scalar "INSERT INTO notices (id, recipient_id, subject_id, type, purpose, webhook_id, status, next_attempt_at, created_at)
        SELECT gen_random_uuid(), '$RECIPIENT', s.id, 'consent.withdrawn', 'bench_bulk',
               (SELECT id FROM webhooks LIMIT 1), 'pending', now(), now()
        FROM subjects s WHERE s.id NOT IN (SELECT subject_id FROM notices)" >/dev/null
started=$SECONDS
while [ "$(scalar "SELECT count(*) FROM notices WHERE status = 'pending'")" != 0 ]; do
  [ $((SECONDS - started)) -lt 600 ] || { echo "not drained in 600 s" >&2; exit 1; }
  sleep 0.5
done
RATE=$(scalar "SELECT count(*) || ' delivered in ' || round(extract(epoch FROM max(delivered_at) - min(last_attempt_at))::numeric, 2)
  || ' s: ' || round(count(*) / extract(epoch FROM max(delivered_at) - min(last_attempt_at))::numeric) || ' deliveries/s'
  FROM notices WHERE purpose = 'bench_bulk'")
say "  $RATE"
load_arrivals
say "  redeliveries (arrivals beyond one per notice): $(scalar "SELECT count(*) - count(DISTINCT id) FROM bench_arrivals")"
echo "notices bench ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores): latency $LATENCY; throughput $RATE"
