#!/usr/bin/env bash
# Measures the accountability registers (contract v3, D) on full-size tables:
#   1. GET /v1/ropa/conformance for a 30-day window over N_ENTRIES access-log entries and
#      N_DISCLOSURES disclosures spread over a year. Target < 5 s.
#   2. POST /v1/breaches/{id}/scope for a breach of a recipient with N_SCOPED disclosed persons in
#      its window. Target < 3 s.
#   3. The audited read GET /v1/subjects/{id} with `X-Access-Purpose: activity:<id>` under
#      PURPOSE_ENFORCEMENT=strict against the same read under `off`, ROUNDS alternating wrk runs
#      of DURATION seconds each (64 connections). Target: strict costs under 5 % of throughput.
# The timed calls (1 and 2) are made RUNS times after one warm-up call; the script prints the
# median, p90 and max of curl's total time.
#
#   bench/registers.sh [--bin PATH] [--entries N] [--disclosures N] [--scoped N] [--runs N]
#                      [--rounds N] [--duration S] [--port N]
#
# Runs the service in embedded mode (its own PostgreSQL under bench/out/registers-data, durable
# settings). The rows are inserted with SQL (generate_series; access-log entries in transactions
# of 10,000, without a MAC, so the sealer refuses them as not the service's, as it does the pgbench
# baselines' entries), then VACUUM ANALYZE, and the timing waits until the sealer has handled every
# entry. Needs psql, curl, wrk and awk; builds the release binary unless --bin is given.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
DATA=${BENCH_REGISTERS_DIR:-$OUT/registers-data}
N_ENTRIES=10000000
N_DISCLOSURES=1000000
N_SCOPED=100000
RUNS=10
ROUNDS=3
DURATION=20
PORT=18380
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=${2:?}; shift ;;
    --entries) N_ENTRIES=${2:?}; shift ;;
    --disclosures) N_DISCLOSURES=${2:?}; shift ;;
    --scoped) N_SCOPED=${2:?}; shift ;;
    --runs) RUNS=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --duration) DURATION=${2:?}; shift ;;
    --port) PORT=${2:?}; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
. "$ROOT/bench/lib.sh"
bench_build
[ "$N_SCOPED" -le "$N_DISCLOSURES" ] || { echo "--scoped must not exceed --disclosures" >&2; exit 2; }

# A service on the cluster under DATA with the given extra environment (the cluster is made by the
# first start and kept by the later ones).
start() {
  local name=$1
  shift
  env DATA_DIR="$DATA" BIND_ADDR="127.0.0.1:$PORT" RUST_LOG=warn "$@" \
    "$BIN" serve >"$OUT/$name-service.log" 2>&1 &
  SERVICE=$!
  BENCH_PIDS+=("$SERVICE")
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/readyz" || true)" = 200 ] && return 0
    sleep 0.1
  done
  echo "not ready in 60 s; see $OUT/$name-service.log" >&2
  exit 1
}
stop() {
  kill -TERM "$SERVICE" 2>/dev/null || true
  wait "$SERVICE" 2>/dev/null || true
}

bench_start_service registers RETENTION_AUTORUN=false
SERVICE=${BENCH_PIDS[-1]}

say "arranging: $N_DISCLOSURES disclosures ($N_SCOPED to the breached recipient), $N_ENTRIES access-log entries"
started=$SECONDS
RECIPIENT=$(bench_recipient)
OTHER=$(bench_recipient)
ACTIVITY=$(api -X POST "$BASE/v1/processing-activities" -d '{
  "name": {"et": "Kliendihaldus", "en": "Client management"},
  "purposes": ["marketing_planpro"], "purpose_description": {"et": "Teenuse osutamine", "en": "Providing the service"},
  "legal_basis": {"article": "6(1)(b)", "reference": "VÕS § 8"},
  "subject_kinds": ["client"], "data_categories": ["identity", "contact"],
  "recipient_categories": ["platform_service_provider"], "transfers": [],
  "retention": {"criterion": {"et": "Lepingu lõpuni", "en": "Until the contract ends"}},
  "security_measures": ["encryption at rest"], "owner": "DPO",
  "reviewed_at": "2026-12-01T10:00:00Z", "status": "active"}' | sed 's/.*"id":"\([^"]*\)".*/\1/')
scalar "INSERT INTO subjects (id, version, kind, source_type, created_at, updated_at)
          SELECT gen_random_uuid(), 1, 'client', 'data_subject', now() - interval '400 days', now()
          FROM generate_series(1, $N_DISCLOSURES);
        CREATE TABLE bench_subjects AS SELECT id, row_number() OVER () AS n FROM subjects;
        INSERT INTO disclosures (id, subject_id, recipient_id, data_categories, channel,
            authorization_ids, actor, at, request_id)
          SELECT gen_random_uuid(), s.id,
            CASE WHEN s.n <= $N_SCOPED THEN '$RECIPIENT'::uuid ELSE '$OTHER'::uuid END,
            ARRAY['identity', 'contact'], 'api', '{}', 'bench',
            CASE WHEN s.n <= $N_SCOPED THEN now() - interval '10 days' + (s.n % 86400) * interval '1 second'
                 ELSE now() - interval '365 days' + (s.n % 365) * interval '1 day' END,
            'bench'
          FROM bench_subjects s" >/dev/null
scalar "DO \$\$
        DECLARE done bigint := 0;
        BEGIN
          WHILE done < $N_ENTRIES LOOP
            INSERT INTO access_log (id, at, actor, action, subject_id, outcome, purpose, request_id)
              SELECT gen_random_uuid(), now() - interval '365 days' + ((done + g)::float8 / $N_ENTRIES * 31536000) * interval '1 second',
                'bench', (ARRAY['subject.read', 'subject.list', 'consent.read', 'subject.update'])[1 + g % 4],
                s.id, 'allowed',
                CASE WHEN g % 3 = 0 THEN 'activity:$ACTIVITY' WHEN g % 3 = 1 THEN 'support ticket' END,
                'bench'
              FROM generate_series(1, least(10000, $N_ENTRIES - done)) g
              JOIN bench_subjects s ON s.n = 1 + (done + g) % $N_DISCLOSURES;
            done := done + 10000;
            COMMIT;
          END LOOP;
        END \$\$" >/dev/null
scalar "VACUUM ANALYZE disclosures" >/dev/null
scalar "VACUUM ANALYZE access_log" >/dev/null
say "  inserted in $((SECONDS - started)) s; waiting for the sealer to handle every entry"
started=$SECONDS
while :; do
  handled=$(scalar "SELECT coalesce(max(last_pos), 0) + (SELECT count(*) FROM access_log_refused) >= (SELECT count(*) FROM access_log) FROM access_log_seal")
  [ "$handled" = t ] && break
  sleep 2
done
say "  the sealer handled them in $((SECONDS - started)) s"

# median, p90 and max (ms) of RUNS calls, after one warm-up call.
timed() {
  local method=$1 url=$2 body=${3:-} times
  local data=()
  [ -z "$body" ] || data=(-d "$body")
  api -o /dev/null -X "$method" "${data[@]}" "$url"
  times=$(for _ in $(seq 1 "$RUNS"); do
    curl -s -f -o /dev/null -w '%{time_total}\n' -X "$method" -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' "${data[@]}" "$url"
  done | sort -n)
  echo "$times" | awk '{ms[NR] = $1 * 1000} END {
    printf "median %.1f ms, p90 %.1f ms, max %.1f ms (%d runs)", ms[int((NR + 1) / 2)],
      ms[int(NR * 0.9 + 0.999)], ms[NR], NR }'
}
FROM=$(date -u -d '30 days ago' +%F)
TO=$(date -u +%F)
WINDOW=$(scalar "SELECT count(*) FROM access_log WHERE at >= '$FROM'")
CONFORMANCE=$(timed GET "$BASE/v1/ropa/conformance?from=$FROM&to=$TO")
say "conformance over $N_ENTRIES entries ($WINDOW in the window) and $N_DISCLOSURES disclosures: $CONFORMANCE (target < 5 s)"
BREACH=$(api -X POST "$BASE/v1/breaches" -d "{\"aware_at\": \"$(date -u +%FT%TZ)\",
  \"nature\": [\"confidentiality\"], \"description\": \"A partner's mailbox was compromised\",
  \"window\": {\"from\": \"$(date -u -d '20 days ago' +%FT%TZ)\", \"to\": \"$(date -u +%FT%TZ)\"},
  \"recipient_id\": \"$RECIPIENT\", \"data_categories\": [\"contact\"]}" | sed 's/.*"id":"\([^"]*\)".*/\1/')
SCOPED=$(api -X POST "$BASE/v1/breaches/$BREACH/scope" -d '{"sources": ["disclosures"]}' | sed 's/.*"affected_count":\([0-9]*\).*/\1/')
SCOPE=$(timed POST "$BASE/v1/breaches/$BREACH/scope" '{"sources": ["disclosures"]}')
say "breach scoping of $SCOPED affected persons: $SCOPE (target < 3 s)"

# Strict purpose binding against off, alternating.
IDS=$OUT/registers-ids.txt
scalar "SELECT id FROM bench_subjects ORDER BY n LIMIT 100000" >"$IDS"
stop
run_reads() {
  local mode=$1 round=$2
  start "registers-$mode-$round" RETENTION_AUTORUN=false PURPOSE_ENFORCEMENT="$mode"
  BENCH_DIR=$ROOT/bench BENCH_IDS=$IDS BENCH_TOKEN=$TOKEN BENCH_PURPOSE="activity:$ACTIVITY" \
    BENCH_RESULT="$OUT/registers-$mode-$round.txt" \
    wrk -t 2 -c 64 -d "${DURATION}s" -s "$ROOT/bench/wrk/read.lua" "$BASE" >/dev/null
  stop
  grep -q '^non2xx=0$' "$OUT/registers-$mode-$round.txt" \
    || { echo "non-2xx answers under $mode: $OUT/registers-$mode-$round.txt" >&2; exit 1; }
  awk -F= '$1 == "rps" {print $2}' "$OUT/registers-$mode-$round.txt"
}
declare -a OFF STRICT
for round in $(seq 1 "$ROUNDS"); do
  OFF+=("$(run_reads off "$round")")
  STRICT+=("$(run_reads strict "$round")")
  say "  round $round: off ${OFF[-1]} req/s, strict ${STRICT[-1]} req/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
M_OFF=$(median "${OFF[@]}")
M_STRICT=$(median "${STRICT[@]}")
# Each round's pair ran back to back: the median of the pairs' costs is what noise that moves
# a whole round (a checkpoint, another process) leaves least changed.
COSTS=()
for i in "${!OFF[@]}"; do
  COSTS+=("$(awk -v a="${OFF[i]}" -v b="${STRICT[i]}" 'BEGIN {printf "%.1f", (1 - b / a) * 100}')")
done
COST=$(median "${COSTS[@]}")
say "audited read with X-Access-Purpose: off $M_OFF req/s, strict $M_STRICT req/s (medians of $ROUNDS); strict costs ${COSTS[*]} % per round, median $COST % (target < 5 %)"
echo "registers bench ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uptime | sed 's/.*load average: //') load):" \
  "conformance $CONFORMANCE; scoping $SCOPE; strict purpose cost $COST %"
