#!/usr/bin/env bash
# The retention target (issue 12): a retention run erases 100,000 due subjects in under 2 minutes,
# with the service still answering reads within its usual p99.
#
#   bench/retention.sh                     # 100,000 due subjects among 200,000 (the target)
#   bench/retention.sh --due 10000         # a smaller set, for a quick look
#   options: --bin PATH (skip the release build), --port P, --read-seconds S (the quiet read
#            measurement, default 20), --threads T --conns C (wrk, default 2 and 16), --no-reads
#            (the run alone: its erasures per second without competing reads)
#
# A fresh cluster made by the service's embedded mode (durable settings), bench/data.sql for the
# subjects (consents, authorizations, a few access-log entries), then half the subjects made due:
# kind `client` with their last activity three years ago, under a 12-month rule. The other half
# (kind `contact`, active now) are what the reads read. It measures GET /v1/subjects/{id} with wrk
# on a quiet service, then again while one POST /v1/retention/runs erases the due half, and reports
# the run's time, erasures per second and both read latencies. Results in bench/out/retention/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
OUT=$BENCH/out/retention
DUE=100000
BIN=""
PORT=18095
READ_SECONDS=20
THREADS=2
CONNS=16
NO_READS=0

die() { echo "bench/retention: $*" >&2; exit 2; }
say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --due) DUE=${2:?}; shift ;;
    --bin) BIN=${2:?}; shift ;;
    --port) PORT=${2:?}; shift ;;
    --read-seconds) READ_SECONDS=${2:?}; shift ;;
    --threads) THREADS=${2:?}; shift ;;
    --conns) CONNS=${2:?}; shift ;;
    --no-reads) NO_READS=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
SUBJECTS=$((DUE * 2))

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
for tool in wrk psql curl awk; do
  command -v "$tool" >/dev/null 2>&1 || die "missing $tool (apt-get install wrk postgresql-client curl)"
done
if [ -z "$BIN" ]; then
  say "cargo build --release"
  (cd "$ROOT" && cargo build --release -q)
  BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/planpro-privacy
fi
mkdir -p "$OUT"

# The cluster must be reachable by the account PostgreSQL runs as (initdb refuses root).
DATA=${BENCH_DATA_DIR:-${TMPDIR:-/tmp}/planpro-retention-bench}
PGROOT=$DATA/postgres
PGDATA_DIR=$PGROOT/pgdata
SOCK=$PGROOT/run
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
ACCESS_LOG_KEY=$(head -c 32 /dev/urandom | base64)
export DATA_DIR=$DATA JWT_SECRET ACCESS_LOG_KEY BIND_ADDR=127.0.0.1:$PORT RETENTION_AUTORUN=false
export BENCH_DIR=$BENCH
BASE=http://127.0.0.1:$PORT
psql_() { psql -h "$SOCK" -U postgres -X -q -v ON_ERROR_STOP=1 "$@" planpro; }
scalar() { psql -h "$SOCK" -U postgres -X -At -v ON_ERROR_STOP=1 -c "$1" planpro; }

as_pg_owner() {
  local owner
  owner=$(stat -c %U "$PGDATA_DIR")
  if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}
SERVICE_PID=""
WRK_PID=""
cleanup() {
  local rc=$?
  [ -z "$WRK_PID" ] || kill -INT "$WRK_PID" 2>/dev/null || true
  [ -z "$SERVICE_PID" ] || { kill -TERM "$SERVICE_PID" 2>/dev/null; wait "$SERVICE_PID" 2>/dev/null || true; }
  [ -d "$PGDATA_DIR" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT

if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA")" ] && [ ! -d "$DATA/postgres" ]; then
  die "$DATA holds something other than a benchmark cluster; not deleting it"
fi
rm -rf "$DATA"
# bench/data.sql loads in clear at the schema before encryption at rest; `migrate` then encrypts
# it in place (as bench/run.sh does).
say "new cluster in $DATA, migrations up to the schema before encryption at rest"
"$BIN" migrate --before 2026-12-01-220000 >"$OUT/migrate.log" 2>&1 || { cat "$OUT/migrate.log" >&2; die "migrate failed"; }
# BENCH_PG_OPTS: extra server options, e.g. "-c shared_preload_libraries=pg_stat_statements".
as_pg_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGROOT/postgres.log" -w -t 120 \
  ${BENCH_PG_OPTS:+-o "$BENCH_PG_OPTS"} start >/dev/null
say "loading $SUBJECTS subjects"
psql_ -v subjects="$SUBJECTS" -v entries=10000 -v eligibility=1000 -v access_log_key="$ACCESS_LOG_KEY" \
  -f "$BENCH/data.sql" >"$OUT/data.log"
# Every other subject is due: a client last active three years ago; the rest are active contacts.
psql_ -c "UPDATE subjects SET kind = CASE WHEN n % 2 = 0 THEN 'client' ELSE 'contact' END,
                              last_activity_at = CASE WHEN n % 2 = 0 THEN now() - interval '3 years'
                                                      ELSE now() END
          FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM subjects) o
          WHERE subjects.id = o.id" -c "VACUUM ANALYZE subjects"
say "encrypting it (the upgrade in place)"
"$BIN" migrate >>"$OUT/migrate.log" 2>&1 || { tail -n 20 "$OUT/migrate.log" >&2; die "the upgrade failed"; }
scalar "SELECT id FROM subjects WHERE kind = 'contact' ORDER BY random() LIMIT 10000" >"$OUT/read_ids.txt"

"$BIN" serve >"$OUT/service.log" 2>&1 &
SERVICE_PID=$!
for _ in $(seq 1 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/readyz" || true)" = 200 ] && break
  kill -0 "$SERVICE_PID" 2>/dev/null || die "the service exited (see $OUT/service.log)"
  sleep 0.1
done
TOKEN=$("$BIN" token --sub bench --scope "subjects:read retention:read retention:write subjects:erase" --ttl 1d)
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"subject_kind": "client", "keep_months": 12, "legal_basis": "bench"}' "$BASE/v1/retention/rules" \
  || die "could not create the rule"
DUE_NOW=$(scalar "SELECT count(*) FROM subjects WHERE kind = 'client' AND erased_at IS NULL")
say "$DUE_NOW subjects due"

reads() { # seconds result-file; exec, so that a background call's pid is wrk's (SIGINT ends it)
  BENCH_TOKEN=$TOKEN BENCH_IDS=$OUT/read_ids.txt BENCH_RESULT=$2 \
    exec wrk -t "$THREADS" -c "$CONNS" -d "$1" --latency -s "$BENCH/wrk/read.lua" "$BASE" >"$2.log" 2>&1
}
rm -f "$OUT/quiet.txt" "$OUT/during.txt"
if [ "$NO_READS" = 0 ]; then
  say "quiet reads for ${READ_SECONDS}s"
  (reads "${READ_SECONDS}s" "$OUT/quiet.txt")
  say "retention run, reads alongside"
  reads 600s "$OUT/during.txt" &
  WRK_PID=$!
  sleep 1
else
  say "retention run, no reads"
fi
t0=$(date +%s.%N)
RUN=$(curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$BASE/v1/retention/runs" | sed -E 's/.*"id":"([^"]+)".*/\1/')
[ -n "$RUN" ] || die "the run did not start"
while :; do
  STATE=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/v1/retention/runs/$RUN")
  case "$STATE" in *'"status":"running"'*) sleep 0.2 ;; *) break ;; esac
done
t1=$(date +%s.%N)
if [ -n "$WRK_PID" ]; then
  kill -INT "$WRK_PID" 2>/dev/null || true
  wait "$WRK_PID" 2>/dev/null || true
  WRK_PID=""
fi

ERASED=$(echo "$STATE" | sed -E 's/.*"erased":([0-9]+).*/\1/')
SECONDS_RUN=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
RATE=$(awk -v n="$ERASED" -v s="$SECONDS_RUN" 'BEGIN {printf "%.0f", n / s}')
kv() { awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$1"; }
{
  echo "retention run $RUN: $STATE"
  echo "due=$DUE_NOW erased=$ERASED seconds=$SECONDS_RUN erasures_per_second=$RATE"
  echo "target: $DUE_NOW in under 120 s: $(awk -v s="$SECONDS_RUN" -v n="$DUE_NOW" 'BEGIN {t = 120 * n / 100000; print (s < t ? "met" : "missed")}') (scaled to $DUE_NOW subjects)"
  for phase in quiet during; do
    [ -f "$OUT/$phase.txt" ] || continue
    echo "reads $phase: rps=$(kv "$OUT/$phase.txt" rps) p50_ms=$(kv "$OUT/$phase.txt" p50_ms) p99_ms=$(kv "$OUT/$phase.txt" p99_ms) non2xx=$(kv "$OUT/$phase.txt" non2xx)"
  done
} | tee "$OUT/summary.txt"
if [ -n "${BENCH_KEEP_SERVICE:-}" ]; then say "kept running; press enter to stop"; read -r _; fi
