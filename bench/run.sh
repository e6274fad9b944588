#!/usr/bin/env bash
# Measures planpro-privacy under load and, in the same run on the same PostgreSQL, the equivalent
# SQL done directly with pgbench; writes the comparison to docs/benchmarks.md.
#
#   bench/run.sh                 full size: 1,000,000 subjects, 10,000,000 access-log entries
#   bench/run.sh --small         10,000 subjects, 100,000 entries (minutes become seconds)
#   bench/run.sh --smoke         what bench/smoke.sh runs: small data, 2 s per run, 1 round, no targets
#
# Options: --duration SECONDS (per run, default 20) --rounds N (default 3) --reuse-data
#          --bin PATH (skip the release build) --report FILE --scenarios read,withdraw,...
#          --port N (default: the first free one from 18080)
# See bench/README.md for what is measured and why.
set -Eeuo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
OUT=$BENCH/out
COMMAND="${CARGO_TARGET_DIR:+CARGO_TARGET_DIR=$CARGO_TARGET_DIR }bench/run.sh $*"
WRK_VERSION=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $1, $2}')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

MODE=full
SUBJECTS=1000000
ENTRIES=10000000
ELIG_IDS=100000
DURATION=20
ROUNDS=3
CONNS=64
THREADS=2
ELIG_CONNS=4
ELIG_SINGLE=5
PORT=""
BIN=""
REPORT=""
REUSE=0
SCENARIOS="read,withdraw,eligibility,page,page1,partner,proof,proof1"

die() { echo "bench: $*" >&2; exit 2; }
say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --small) MODE=small ;;
    --smoke) MODE=smoke ;;
    --duration) DURATION_ARG=${2:?}; shift ;;
    --rounds) ROUNDS_ARG=${2:?}; shift ;;
    --reuse-data) REUSE=1 ;;
    --bin) BIN=${2:?}; shift ;;
    --report) REPORT=${2:?}; shift ;;
    --scenarios) SCENARIOS=${2:?}; shift ;;
    --port) PORT=${2:?}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

case "$MODE" in
  small) SUBJECTS=10000; ENTRIES=100000; ELIG_IDS=10000 ;;
  smoke) SUBJECTS=10000; ENTRIES=100000; ELIG_IDS=10000; DURATION=2; ROUNDS=1; ELIG_SINGLE=2 ;;
esac
DURATION=${DURATION_ARG:-$DURATION}
ROUNDS=${ROUNDS_ARG:-$ROUNDS}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "$PORT" ]; then
  for PORT in $(seq 18080 18099) ""; do
    [ -n "$PORT" ] && ! port_busy "$PORT" && break
  done
  [ -n "$PORT" ] || die "no free port in 127.0.0.1:18080-18099 (use --port)"
fi
[ -n "$REPORT" ] || { [ "$MODE" = smoke ] && REPORT=$OUT/smoke-report.md || REPORT=$ROOT/docs/benchmarks.md; }
SEAL_TIMEOUT=$(( ENTRIES / 10000 * 6 + 120 ))

# ---------------------------------------------------------------- tools
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
missing=()
for tool in wrk pgbench psql curl awk sort; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (apt-get install wrk postgresql-contrib postgresql-client curl)"

mkdir -p "$OUT"
# The cluster must be reachable by the account PostgreSQL runs as (initdb refuses root); a checkout
# under a private home directory is not, so the cluster then goes under $TMPDIR.
DATA=${BENCH_DATA_DIR:-$OUT/data}
if [ -z "${BENCH_DATA_DIR:-}" ] && [ "$(id -u)" = 0 ]; then
  pg_account=${EMBEDDED_PG_USER:-postgres}
  id -u "$pg_account" >/dev/null 2>&1 || pg_account=nobody
  if ! runuser -u "$pg_account" -- test -x "$OUT" 2>/dev/null; then
    DATA=${TMPDIR:-/tmp}/planpro-privacy-bench-data
    say "note: $pg_account cannot reach $OUT, so the cluster lives in $DATA"
  fi
fi
PGROOT=$DATA/postgres
PGDATA_DIR=$PGROOT/pgdata
SOCK=$PGROOT/run
RESULTS=$OUT/results
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
# The access-log key is given (not generated under DATA_DIR) so that bench/data.sql can key the
# bulk-loaded entries with it, as the service keys its own.
ACCESS_LOG_KEY=$(head -c 32 /dev/urandom | base64)
export DATA_DIR=$DATA JWT_SECRET ACCESS_LOG_KEY BIND_ADDR=127.0.0.1:$PORT
export BENCH_DIR=$BENCH
BASE=http://127.0.0.1:$PORT

psql_() { psql -h "$SOCK" -U postgres -X -q -v ON_ERROR_STOP=1 "$@" planpro; }
scalar() { psql -h "$SOCK" -U postgres -X -At -v ON_ERROR_STOP=1 -c "$1" planpro; }

# ---------------------------------------------------------------- the PostgreSQL cluster
# The service's own embedded cluster (bench/out/data/postgres, a Unix socket only, durable
# settings: fsync and synchronous_commit on). We start it ourselves so that data can be loaded
# before the service runs; the service then finds it running and uses it.
CLUSTER_STARTED=0
as_pg_owner() {
  local owner
  owner=$(stat -c %U "$PGDATA_DIR")
  if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}
cluster_running() { [ -d "$PGDATA_DIR" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }
cluster_start() {
  cluster_running && return 0
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGROOT/postgres.log" -w -t 120 start >/dev/null \
    || die "PostgreSQL did not start; see $PGROOT/postgres.log"
  CLUSTER_STARTED=1
}
cluster_stop() {
  cluster_running || return 0
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 120 stop >/dev/null || true
}

# ---------------------------------------------------------------- the service
SERVICE_PID=""
SERVICE_STARTS=0
PEAK_RSS_KB=0
LAST_RSS_KB=0
service_start() {
  [ -z "$SERVICE_PID" ] || return 0
  if curl -s -o /dev/null --max-time 1 "$BASE/healthz"; then
    die "something already listens on 127.0.0.1:$PORT (use --port)"
  fi
  SERVICE_STARTS=$((SERVICE_STARTS + 1))
  "$BIN" serve >"$OUT/service-$SERVICE_STARTS.log" 2>&1 &
  SERVICE_PID=$!
  local i
  for i in $(seq 1 600); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/readyz" || true)" = 200 ]; then
      return 0
    fi
    if ! kill -0 "$SERVICE_PID" 2>/dev/null; then
      tail -n 20 "$OUT/service-$SERVICE_STARTS.log" >&2
      SERVICE_PID=""
      die "the service exited during start-up (log above: $OUT/service-$SERVICE_STARTS.log)"
    fi
    sleep 0.1
  done
  die "the service was not ready within 60 s (see $OUT/service-$SERVICE_STARTS.log)"
}
service_rss() {
  awk '/^VmHWM:/ {print $2}' "/proc/$SERVICE_PID/status" 2>/dev/null || echo 0
}
# Stops the service; with `measured`, its peak RSS counts towards the report.
service_stop() {
  [ -n "$SERVICE_PID" ] || return 0
  local hwm
  hwm=$(service_rss)
  if [ "${1:-}" = measured ] && [ "${hwm:-0}" -gt "$PEAK_RSS_KB" ]; then PEAK_RSS_KB=$hwm; fi
  LAST_RSS_KB=${hwm:-0}
  kill -TERM "$SERVICE_PID" 2>/dev/null || true
  wait "$SERVICE_PID" 2>/dev/null || true
  SERVICE_PID=""
}
cleanup() {
  local rc=$?
  [ -z "$SERVICE_PID" ] || { kill -TERM "$SERVICE_PID" 2>/dev/null; wait "$SERVICE_PID" 2>/dev/null || true; }
  [ "$CLUSTER_STARTED" = 0 ] || cluster_stop
  exit $rc
}
trap cleanup EXIT
trap 'echo "bench: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

# Waits until the hash chain covers every access-log entry (the service must be running and idle)
# and a signed checkpoint covers the whole Merkle tree. Entries the sealer refused (the pgbench
# baselines insert theirs without a MAC: they are not the service's) count as handled.
wait_for_sealer() {
  local total chained started=$SECONDS last_say=$SECONDS
  total=$(scalar "SELECT count(*) FROM access_log")
  while :; do
    chained=$(scalar "SELECT coalesce(max(last_pos), 0) + (SELECT count(*) FROM access_log_refused) FROM access_log_seal")
    if [ "$chained" -ge "$total" ]; then
      [ "$(scalar "SELECT coalesce(max(size), 0) >= (SELECT count(*) FROM access_log_leaf) FROM access_log_checkpoint")" = t ] && break
    fi
    if [ $((SECONDS - started)) -gt "$SEAL_TIMEOUT" ]; then
      die "the sealer chained $chained of $total entries in ${SEAL_TIMEOUT}s; see $OUT/service-$SERVICE_STARTS.log"
    fi
    if [ $((SECONDS - last_say)) -ge 15 ]; then say "  sealer: $chained of $total entries chained"; last_say=$SECONDS; fi
    sleep 1
  done
  SEALED_TOTAL=$total
}

# ---------------------------------------------------------------- build
if [ -z "$BIN" ]; then
  say "cargo build --release"
  cargo build --release --quiet
  BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/planpro-privacy
fi
[ -x "$BIN" ] || die "no binary at $BIN"
BIN=$(readlink -f "$BIN")
case "$BIN" in
  */release/*) BUILD_KIND="release build" ;;
  */debug/*) BUILD_KIND="debug build (\`$BIN\`)" ;;
  *) BUILD_KIND="binary \`$BIN\`" ;;
esac

# ---------------------------------------------------------------- data
MARKER="subjects=$SUBJECTS entries=$ENTRIES eligibility=$ELIG_IDS"
DATA_SECONDS=""
UPGRADE_SECONDS=""
SEAL_SECONDS=""
# The first migration of encryption at rest: the data is loaded at the schema before it.
CLEAR_SCHEMA_END=2026-12-01-220000
cluster_running && cluster_stop
if [ "$REUSE" = 1 ] && [ -f "$DATA/bench.marker" ] && [ "$(cat "$DATA/bench.marker")" = "$MARKER" ]; then
  say "reusing the data in $DATA ($MARKER)"
  cluster_start
else
  if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA")" ] && [ ! -d "$DATA/postgres" ]; then
    die "$DATA holds something other than a benchmark cluster; not deleting it"
  fi
  rm -rf "$DATA"
  # The data is loaded in clear at the schema before encryption at rest, as the first version
  # stored it, and then encrypted by the upgrade in place (`migrate`), which is measured too.
  say "new cluster in $DATA, migrations up to the schema before encryption at rest"
  "$BIN" migrate --before "$CLEAR_SCHEMA_END" >"$OUT/migrate.log" 2>&1 || { cat "$OUT/migrate.log" >&2; die "migrate failed"; }
  cluster_start
  say "loading $MARKER"
  t0=$(date +%s.%N)
  psql_ -v subjects="$SUBJECTS" -v entries="$ENTRIES" -v eligibility="$ELIG_IDS" -v access_log_key="$ACCESS_LOG_KEY" \
    -f "$BENCH/data.sql" >"$OUT/data.log"
  DATA_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  say "data loaded in ${DATA_SECONDS}s; upgrading in place (encryption at rest)"
  t0=$(date +%s.%N)
  "$BIN" migrate >>"$OUT/migrate.log" 2>&1 || { tail -n 20 "$OUT/migrate.log" >&2; die "the upgrade failed"; }
  UPGRADE_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  say "upgraded in ${UPGRADE_SECONDS}s"
  psql_ -c "VACUUM (ANALYZE) subjects, subject_keys, consents, consent_events, disclosure_authorizations"
  echo "$MARKER" >"$DATA/bench.marker"
fi

# Files for the load scripts.
scalar "SELECT id FROM bench.ids ORDER BY n" >"$OUT/ids.txt"
scalar "SELECT id FROM bench.hot_ids ORDER BY n" >"$OUT/hot_ids.txt"
scalar "SELECT id FROM bench.partner_ids ORDER BY n" >"$OUT/partner_ids.txt"
scalar "SELECT json_build_object('purpose', 'marketing_planpro', 'subject_ids', json_agg(id ORDER BY n)) FROM bench.elig_ids" >"$OUT/eligibility.json"
scalar "SELECT array_agg(id ORDER BY n)::text FROM bench.elig_ids" >"$OUT/elig_array.txt"
awk 'NR == FNR { ids = $0; next } { gsub(/@IDS@/, ids); print }' "$OUT/elig_array.txt" "$BENCH/pgbench/eligibility.sql" >"$OUT/eligibility_baseline.sql"
RECIPIENT_ID=$(scalar "SELECT value FROM bench.meta WHERE key = 'recipient_id'")
N_IDS=$(wc -l <"$OUT/ids.txt")
N_HOT=$(wc -l <"$OUT/hot_ids.txt")
N_PARTNER=$(wc -l <"$OUT/partner_ids.txt")
N_ELIG=$(scalar "SELECT count(*) FROM bench.elig_ids")

STAFF_TOKEN=$("$BIN" token --sub bench --scope "subjects:read consents:read consents:write access-logs:read" --ttl 1d)
PARTNER_TOKEN=$("$BIN" token --sub bench-partner --scope partner --recipient-id "$RECIPIENT_ID" --ttl 1d)

# ---------------------------------------------------------------- sealer catch-up
say "starting the service; waiting for the sealer to chain the loaded access log"
t0=$(date +%s.%N)
service_start
wait_for_sealer
SEAL_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
service_stop
CATCHUP_RSS_KB=$LAST_RSS_KB
say "sealer caught up: $SEALED_TOTAL entries chained ${SEAL_SECONDS}s after start (service peak RSS meanwhile $((CATCHUP_RSS_KB / 1024)) MiB)"
psql_ -c "VACUUM (ANALYZE) access_log_chain, access_log_seal, access_log_leaf, access_log_node, access_log_checkpoint" -c "CHECKPOINT"
# Entries for the proof scenario: 20,000 spread evenly over the checkpointed tree.
psql_ -c "DROP TABLE IF EXISTS bench.entry_ids" -c "CREATE TABLE bench.entry_ids AS
  SELECT row_number() OVER (ORDER BY g)::int AS n, l.entry_id AS id
  FROM generate_series(0, (SELECT max(idx) FROM access_log_leaf),
                       greatest(1, (SELECT count(*) FROM access_log_leaf) / 20000)) g
  JOIN access_log_leaf l ON l.idx = g" -c "ALTER TABLE bench.entry_ids ADD PRIMARY KEY (n)"
scalar "SELECT id FROM bench.entry_ids ORDER BY n" >"$OUT/entry_ids.txt"
N_ENTRY_IDS=$(wc -l <"$OUT/entry_ids.txt")

# ---------------------------------------------------------------- scenarios
# name | method | path (with {id}) | ids file | token | connections | script (bench/wrk/NAME.lua and
# bench/pgbench/NAME.sql) | rows of the baseline's lookup table | pgbench protocol
scenario_def() {
  case "$1" in
    read) echo "GET|/v1/subjects/{id}|$OUT/ids.txt|$STAFF_TOKEN|$CONNS|read|$N_IDS|prepared" ;;
    withdraw) echo "PUT|/v1/subjects/{id}/consents/marketing_planpro|$OUT/ids.txt|$STAFF_TOKEN|$CONNS|withdraw|$N_IDS|prepared" ;;
    eligibility) echo "POST|/v1/consents/eligibility||$STAFF_TOKEN|$ELIG_CONNS|eligibility|$N_ELIG|simple" ;;
    # The page query is planned per execution (as the service's is), for the actual subject.
    page) echo "GET|/v1/subjects/{id}/access-logs?limit=100|$OUT/hot_ids.txt|$STAFF_TOKEN|$CONNS|page|$N_HOT|extended" ;;
    # The same page with one connection: its latency without queueing behind 63 others.
    page1) echo "GET|/v1/subjects/{id}/access-logs?limit=100|$OUT/hot_ids.txt|$STAFF_TOKEN|1|page|$N_HOT|extended" ;;
    partner) echo "GET|/v1/partner/subjects/{id}|$OUT/partner_ids.txt|$PARTNER_TOKEN|$CONNS|partner|$N_PARTNER|prepared" ;;
    proof) echo "GET|/v1/access-logs/{id}/inclusion-proof|$OUT/entry_ids.txt|$STAFF_TOKEN|$CONNS|proof|$N_ENTRY_IDS|prepared" ;;
    # The same proofs with one connection: the answer's latency without queueing.
    proof1) echo "GET|/v1/access-logs/{id}/inclusion-proof|$OUT/entry_ids.txt|$STAFF_TOKEN|1|proof|$N_ENTRY_IDS|prepared" ;;
    *) die "unknown scenario $1" ;;
  esac
}
IFS=',' read -r -a SCENARIO_LIST <<<"$SCENARIOS"
for s in "${SCENARIO_LIST[@]}"; do scenario_def "$s" >/dev/null; done

declare -A FAILED=()   # scenario -> why
declare -A SKIPPED=()  # scenario -> why (smoke only: the endpoint is not in this build)

# One request before loading, so that a missing endpoint or a broken script fails clearly.
probe() {
  local name=$1 method path ids token body_args=() status id url
  IFS='|' read -r method path ids token _ <<<"$(scenario_def "$name")"
  id=$( [ -n "$ids" ] && head -n 1 "$ids" || true )
  url=$BASE${path//\{id\}/$id}
  case "$name" in
    withdraw) body_args=(-H 'Content-Type: application/json' --data-binary '{"status":"withdrawn","method":"api"}') ;;
    eligibility) body_args=(-H 'Content-Type: application/json' -H 'Expect:' --data-binary "@$OUT/eligibility.json") ;;
  esac
  status=$(curl -s -o "$RESULTS/$name-probe.body" -w '%{http_code}' --max-time 120 -X "$method" \
    -H "Authorization: Bearer $token" "${body_args[@]}" "$url" || echo 000)
  if [ "${status:0:1}" = 2 ]; then return 0; fi
  local route=${path%%\?*}
  local why="probe $method $route answered $status: $(head -c 300 "$RESULTS/$name-probe.body" | tr '\n' ' ')"
  if ! curl -s --max-time 10 "$BASE/openapi.json" | grep -qF "\"$route\""; then
    why="endpoint $method $route is not in this build (absent from /openapi.json; $why)"
    if [ "$MODE" = smoke ] && [ "${BENCH_STRICT:-0}" != 1 ]; then
      SKIPPED[$name]=$why
      say "  SKIPPED $name: $why"
      return 1
    fi
  fi
  FAILED[$name]=$why
  say "  FAILED $name: $why"
  return 1
}

kv() { awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$1"; }

run_service() {
  local name=$1 round=$2 method path ids token conns script result
  IFS='|' read -r method path ids token conns script _ <<<"$(scenario_def "$name")"
  local threads=$THREADS
  [ "$conns" -lt "$threads" ] && threads=$conns
  result=$RESULTS/$name-service-$round.txt
  local timeout=10s
  [ "$name" = eligibility ] && timeout=120s
  if [ "$name" = eligibility ]; then
    # Single requests, one at a time: the time the target is about.
    local i t status
    : >"$RESULTS/$name-single-$round.txt"
    for i in $(seq 1 "$ELIG_SINGLE"); do
      read -r status t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 120 -X POST \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -H 'Expect:' \
        --data-binary "@$OUT/eligibility.json" "$BASE/v1/consents/eligibility" || echo "000 0")
      [ "${status:0:1}" = 2 ] || { FAILED[$name]="single request answered $status"; return 1; }
      echo "$t" >>"$RESULTS/$name-single-$round.txt"
    done
  fi
  BENCH_TOKEN=$token BENCH_IDS=$ids BENCH_BODY=$OUT/eligibility.json BENCH_RESULT=$result \
    wrk -t "$threads" -c "$conns" -d "${DURATION}s" --timeout "$timeout" -s "$BENCH/wrk/$script.lua" \
    "$BASE${path//\{id\}/}" >"$RESULTS/$name-service-$round.log" 2>&1 \
    || { FAILED[$name]="wrk failed: $(tail -n 3 "$RESULTS/$name-service-$round.log" | tr '\n' ' ')"; return 1; }
  [ -s "$result" ] || { FAILED[$name]="wrk wrote no result: $(tail -n 3 "$RESULTS/$name-service-$round.log" | tr '\n' ' ')"; return 1; }
  local bad errs
  bad=$(kv "$result" non2xx); errs=$(kv "$result" socket_errors)
  if [ "$bad" != 0 ] || [ "$errs" != 0 ]; then
    FAILED[$name]="$bad non-2xx responses and $errs socket errors in round $round (first: $(kv "$result" first_bad))"
  fi
  say "  service  $name: $(kv "$result" rps) req/s, p50 $(kv "$result" p50_ms) ms, p99 $(kv "$result" p99_ms) ms, non-2xx $bad, socket errors $errs"
}

# pgbench: tps from its summary, latency percentiles from its per-transaction log.
run_baseline() {
  local name=$1 round=$2 conns nids script protocol dir
  IFS='|' read -r _ _ _ _ conns script nids protocol <<<"$(scenario_def "$name")"
  dir=$RESULTS/$name-baseline-$round
  mkdir -p "$dir"
  local file=$BENCH/pgbench/$script.sql mode=(-M "$protocol")
  if [ "$name" = eligibility ]; then
    file=$OUT/eligibility_baseline.sql
    pgbench -h "$SOCK" -U postgres -n -c 1 -j 1 -t "$ELIG_SINGLE" "${mode[@]}" -f "$file" -l --log-prefix="$dir/single" planpro \
      >"$dir/pgbench-single.out" 2>&1 || { FAILED[$name]="pgbench (single) failed: $(tail -n 3 "$dir/pgbench-single.out" | tr '\n' ' ')"; return 1; }
    cat "$dir"/single.* 2>/dev/null | awk 'NF >= 6 && $1 ~ /^[0-9]+$/ {printf "%.6f\n", $3 / 1e6}' >"$RESULTS/$name-baseline-single-$round.txt"
  fi
  local threads=$THREADS
  [ "$conns" -lt "$threads" ] && threads=$conns
  pgbench -h "$SOCK" -U postgres -n -c "$conns" -j "$threads" -T "$DURATION" "${mode[@]}" -D nids="$nids" \
    -f "$file" -l --log-prefix="$dir/tx" planpro >"$dir/pgbench.out" 2>&1 \
    || { FAILED[$name]="pgbench failed: $(grep -m 3 -iE 'error|abort' "$dir/pgbench.out" | tr '\n' ' ')"; return 1; }
  if grep -qiE 'aborted|error' "$dir/pgbench.out"; then
    FAILED[$name]="pgbench reported errors: $(grep -m 3 -iE 'aborted|error' "$dir/pgbench.out" | tr '\n' ' ')"
    return 1
  fi
  local tps p50 p99 result=$RESULTS/$name-baseline-$round.txt
  tps=$(awk '/^tps = / {print $3; exit}' "$dir/pgbench.out")
  cat "$dir"/tx.* | awk 'NF >= 6 {printf "%.3f\n", $3 / 1000}' | sort -n >"$dir/latencies.txt"
  p50=$(awk '{a[NR] = $1} END {i = int(NR * 0.50); if (i < 1) i = 1; print a[i]}' "$dir/latencies.txt")
  p99=$(awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; print a[i]}' "$dir/latencies.txt")
  printf 'tps=%s\np50_ms=%s\np99_ms=%s\n' "$tps" "$p50" "$p99" >"$result"
  rm -f "$dir"/tx.*
  say "  baseline $name: $tps tps, p50 $p50 ms, p99 $p99 ms"
}

say "scenarios: ${SCENARIO_LIST[*]}; $ROUNDS round(s) of ${DURATION}s each, service then baseline"
for round in $(seq 1 "$ROUNDS"); do
  say "round $round of $ROUNDS"
  for name in "${SCENARIO_LIST[@]}"; do
    if [ -z "${FAILED[$name]:-}" ] && [ -z "${SKIPPED[$name]:-}" ]; then
      service_start
      wait_for_sealer
      if [ "$round" -gt 1 ] || probe "$name"; then
        run_service "$name" "$round" || say "  FAILED $name: ${FAILED[$name]}"
      fi
      service_stop measured
    fi
    run_baseline "$name" "$round" || say "  FAILED $name baseline: ${FAILED[$name]}"
  done
done

# ---------------------------------------------------------------- report
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) {print ""; exit} if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
collect() { # collect scenario side key
  local f
  for f in "$RESULTS/$1-$2"-[0-9]*.txt; do
    [ -f "$f" ] || continue
    kv "$f" "$3"
  done | median
}
fmt() { [ -n "$1" ] && awk -v v="$1" -v d="${2:-1}" 'BEGIN {printf "%.*f", d, v}' || printf '—'; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "—"}' || printf '—'; }

MET_ALL=1
row() { # name label
  local name=$1 label=$2 srps sp50 sp99 btps bp50 bp99 r target met note=""
  srps=$(collect "$name" service rps); sp50=$(collect "$name" service p50_ms); sp99=$(collect "$name" service p99_ms)
  btps=$(collect "$name" baseline tps); bp50=$(collect "$name" baseline p50_ms); bp99=$(collect "$name" baseline p99_ms)
  r=$(ratio "$srps" "$btps")
  case "$name" in
    read) target="≥ 2.0× baseline, 0 errors"
      met=$(awk -v r="$r" 'BEGIN {print (r != "—" && r + 0 >= 2.0) ? "yes" : "no"}')
      [ "$met" = yes ] || note="short by $(awk -v r="$r" 'BEGIN {if (r == "—") print "—"; else printf "%.0f%%", (2.0 - r) / 2.0 * 100}') of the target" ;;
    withdraw) target="≥ 1.3× baseline"
      met=$(awk -v r="$r" 'BEGIN {print (r != "—" && r + 0 >= 1.3) ? "yes" : "no"}')
      [ "$met" = yes ] || note="short by $(awk -v r="$r" 'BEGIN {if (r == "—") print "—"; else printf "%.0f%%", (1.3 - r) / 1.3 * 100}') of the target" ;;
    page) target="p99 < 20 ms"
      met=$(awk -v p="$sp99" 'BEGIN {print (p != "" && p + 0 < 20) ? "yes" : "no"}')
      [ "$met" = yes ] || [ -z "$sp99" ] || note="p99 over by $(awk -v p="$sp99" 'BEGIN {printf "%.1f ms", p - 20}')" ;;
    proof1) target="p99 < 10 ms"
      met=$(awk -v p="$sp99" 'BEGIN {print (p != "" && p + 0 < 10) ? "yes" : "no"}')
      [ "$met" = yes ] || [ -z "$sp99" ] || note="p99 over by $(awk -v p="$sp99" 'BEGIN {printf "%.1f ms", p - 10}')" ;;
    proof) target="— (64 connections on 2 cores: queueing; see the 1-connection row)"; met="—" ;;
    partner) target="≥ 1.5× baseline, 0 errors, p99 ≤ baseline's"
      met=$(awk -v r="$r" -v p="$sp99" -v b="$bp99" 'BEGIN {print (r != "—" && r + 0 >= 1.5 && p != "" && b != "" && p + 0 <= b + 0) ? "yes" : "no"}')
      [ "$met" = yes ] || note="ratio $r, p99 $sp99 against the baseline's $bp99" ;;
    page1) target="— (no target)"; met="—" ;;
    eligibility)
      local s1 b1
      s1=$({ cat "$RESULTS"/eligibility-single-*.txt 2>/dev/null || true; } | median)
      b1=$({ cat "$RESULTS"/eligibility-baseline-single-*.txt 2>/dev/null || true; } | median)
      r=$(ratio "$s1" "$b1")
      target="one request ≤ 1.5× the query's time"
      met=$(awk -v r="$r" 'BEGIN {print (r != "—" && r + 0 <= 1.5) ? "yes" : "no"}')
      [ "$met" = yes ] || [ "$r" = "—" ] || note="over by $(awk -v r="$r" 'BEGIN {printf "%.0f%%", (r - 1.5) / 1.5 * 100}')"
      label="$label (one request: service $(fmt "$s1" 3) s, query $(fmt "$b1" 3) s; load rows at -c $ELIG_CONNS)" ;;
  esac
  if [ "$MODE" = smoke ]; then met="not judged (smoke)"; note=""; fi
  if [ -n "${FAILED[$name]:-}" ]; then met="no"; note="FAILED: ${FAILED[$name]}"; fi
  if [ -n "${SKIPPED[$name]:-}" ]; then met="—"; note="SKIPPED: ${SKIPPED[$name]}"; fi
  [ "$met" != no ] || MET_ALL=0
  printf '| %s | %s | %s | %s | %s | %s / %s | %s | %s | %s%s |\n' "$label" "$(fmt "$srps")" "$(fmt "$sp50" 2)" "$(fmt "$sp99" 2)" \
    "$(fmt "$btps")" "$(fmt "$bp50" 2)" "$(fmt "$bp99" 2)" "$r" "$target" "$met" "${note:+ — $note}"
}

declare -A LABEL=(
  [read]="Audited read \`GET /v1/subjects/{id}\`"
  [withdraw]="Consent withdrawal \`PUT /v1/subjects/{id}/consents/marketing_planpro\`"
  [eligibility]="Eligibility of $N_ELIG ids \`POST /v1/consents/eligibility\`"
  [page]="Access-log page \`GET /v1/subjects/{id}/access-logs?limit=100\`"
  [page1]="Access-log page, 1 connection (latency without queueing)"
  [partner]="Partner read \`GET /v1/partner/subjects/{id}\`"
  [proof]="Inclusion proof \`GET /v1/access-logs/{id}/inclusion-proof\` (latest checkpoint, $ENTRIES entries)"
  [proof1]="Inclusion proof, 1 connection (latency without queueing)"
)
: >"$RESULTS/rows.md"
for name in "${SCENARIO_LIST[@]}"; do row "$name" "${LABEL[$name]}" >>"$RESULTS/rows.md"; done
PEAK_MIB=$(awk -v k="$PEAK_RSS_KB" 'BEGIN {printf "%.1f", k / 1024}')
RSS_MET=$(awk -v k="$PEAK_RSS_KB" 'BEGIN {print (k > 0 && k < 64 * 1024) ? "yes" : "no"}')
[ "$RSS_MET" = yes ] || MET_ALL=0
RSS_NOTE=""
if [ "$PEAK_RSS_KB" = 0 ]; then PEAK_MIB="—"; RSS_MET="not measured (no service run)"; elif [ "$MODE" = smoke ]; then RSS_MET="not judged (smoke)"; elif [ "$RSS_MET" != yes ]; then RSS_NOTE=" — over by $(awk -v k="$PEAK_RSS_KB" 'BEGIN {printf "%.1f MiB", k / 1024 - 64}')"; fi

CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
MEM=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
PGV=$("$PG_BIN/postgres" --version)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo " (with uncommitted changes)" || true)
mkdir -p "$(dirname "$REPORT")"
{
  echo "# Benchmarks"
  echo
  if [ "$MODE" = full ] && [ "$ROUNDS" -lt 2 ]; then
    echo "> **Only $ROUNDS round**: service and baseline did not alternate twice; not an official measurement."
    echo
  fi
  if [ "$MODE" != full ]; then
    echo "> **$MODE run** ($SUBJECTS subjects, $ENTRIES access-log entries, ${DURATION}s per run): for checking the scripts, not for quoting."
    echo
  fi
  echo "Generated by \`$COMMAND\` on $(date -u '+%Y-%m-%d %H:%M UTC') from commit $COMMIT$DIRTY."
  echo
  echo "Machine: $(nproc) CPUs ($CPU), $MEM memory; load average before the run: $LOAD_BEFORE. $PGV; $WRK_VERSION."
  echo "Service, PostgreSQL and load generator share the machine. Service: $BUILD_KIND, default settings"
  echo "(\`DB_POOL_SIZE\` ${DB_POOL_SIZE:-10}, \`RUST_LOG\` ${RUST_LOG:-info}, logs to a file), embedded cluster with durable settings (fsync and"
  echo "synchronous_commit on; other settings PostgreSQL's defaults)."
  echo
  echo "Data: $SUBJECTS subjects with consents and consent events, 3 recipients and disclosure authorizations,"
  echo "$ENTRIES access-log entries (half on the 1 % hot subjects, ~500 each at full size)."
  if [ -n "$DATA_SECONDS" ]; then
    echo "Generating and loading it in clear (\`bench/data.sql\`, vacuum included) took **${DATA_SECONDS} s**; the upgrade"
    echo "in place that encrypts it (\`planpro-privacy migrate\`: a data key per subject, every personal value"
    echo "sealed, blind indexes, the clear columns dropped) took **${UPGRADE_SECONDS} s**."
  else
    echo "(Data reused from an earlier run.)"
  fi
  echo "The bulk-loaded entries are not hash-chained when inserted: the service's background sealer chains them"
  echo "like any other entry; it took **${SEAL_SECONDS} s** from service start until all $SEALED_TOTAL entries"
  echo "were chained (service peak RSS meanwhile: $((CATCHUP_RSS_KB / 1024)) MiB). Measurements start only after that,"
  echo "each on a freshly started service once the sealer has caught up."
  echo
  echo "Each run lasts ${DURATION}s with wrk \`-t $THREADS -c $CONNS\` (eligibility: \`-c $ELIG_CONNS\`) for the service and"
  echo "\`pgbench -n -M prepared -c $CONNS -j $THREADS -T $DURATION\` for the baseline (page: \`-M extended\`, planned per execution like the service's query), on the same database; service and"
  echo "baseline alternate, $ROUNDS round(s); the figures are medians over the rounds. Latencies in ms."
  echo
  echo "| scenario | service req/s | p50 | p99 | baseline tps | baseline p50 / p99 | service / baseline | target | met? |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
  cat "$RESULTS/rows.md"
  echo "| Service peak RSS (VmHWM, max over the measured service processes) | $PEAK_MIB MiB | | | | | | < 64 MiB | $RSS_MET$RSS_NOTE |"
  echo
  echo "Baselines (\`bench/pgbench/\`): read = one transaction with the select and the access-log insert;"
  echo "withdrawal = consent event insert + consents upsert + the subject's last_activity_at update + access-log insert in one transaction; eligibility ="
  echo "the single query (unnest of a uuid[] literal of the same ids LEFT JOIN subjects, consents), timed alone"
  echo "(\`pgbench -c 1 -t $ELIG_SINGLE\`) against single service requests timed with curl; page = the 101-row"
  echo "select and the access-log insert; partner = authorization + subject select, disclosure insert,"
  echo "access-log insert; proof = the leaf, checkpoint and entry lookups, the stored tree blocks a proof reads"
  echo "and the access-log insert. Raw results: \`bench/out/results/\` (not committed)."
} >"$REPORT"
say "report written to $REPORT"
cat "$REPORT"

if [ ${#FAILED[@]} -gt 0 ]; then
  say "FAILED scenarios: ${!FAILED[*]}"
  exit 1
fi
if [ "$MODE" != smoke ] && [ "$MET_ALL" = 0 ]; then
  say "some targets were missed (see the report)"
fi
exit 0
