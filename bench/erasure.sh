#!/usr/bin/env bash
# Times erasures (the issue-12 target: one erasure of a subject with 1,000 history rows answers
# in under 50 ms). Each of N subjects has 400 consent events, 300 rectifications, 300
# disclosures, two consent flags and three authorizations (bench/erasure.sql); the script erases
# them one after another through `POST /v1/subjects/{id}/erasure` and prints the p50, p95 and
# maximum of curl's total time, and the rows the erasures left in the history tables.
#
#   bench/erasure.sh [--subjects N] [--filler M] [--bin PATH]
#
# Defaults: 200 subjects to erase, 100,000 other subjects. Builds the release binary unless
# --bin is given; makes its own cluster under $TMPDIR/planpro-privacy-erasure (deleted first).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SUBJECTS=200
FILLER=100000
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --subjects) SUBJECTS=${2:?}; shift ;;
    --filler) FILLER=${2:?}; shift ;;
    --bin) BIN=${2:?}; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
if [ -z "$BIN" ]; then cargo build --release --quiet; BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/planpro-privacy; fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DATA=${TMPDIR:-/tmp}/planpro-privacy-erasure
rm -rf "$DATA"
PORT=18181
export DATA_DIR=$DATA BIND_ADDR=127.0.0.1:$PORT
export JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
SOCK=$DATA/postgres/run
PGDATA_DIR=$DATA/postgres/pgdata
as_owner() { local o; o=$(stat -c %U "$PGDATA_DIR"); if [ "$(id -u)" = 0 ] && [ "$o" != root ]; then runuser -u "$o" -- "$@"; else "$@"; fi; }
# Loaded in clear at the schema before encryption at rest, then upgraded in place (as run.sh).
"$BIN" migrate --before 2026-12-01-220000 >/dev/null 2>&1
as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$DATA/postgres/postgres.log" -w start >/dev/null
SERVICE=""
trap '[ -z "$SERVICE" ] || kill -TERM "$SERVICE" 2>/dev/null; wait 2>/dev/null; as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null || true' EXIT
sql() { psql -h "$SOCK" -U postgres -X -At -v ON_ERROR_STOP=1 "$@" planpro; }
say "loading $SUBJECTS subjects with 1,000 history rows each and $FILLER others"
sql -q -v erasable="$SUBJECTS" -v filler="$FILLER" -f bench/erasure.sql >/dev/null
say "encrypting it (the upgrade in place)"
"$BIN" migrate >"$DATA/migrate.log" 2>&1 || { tail -n 20 "$DATA/migrate.log" >&2; exit 1; }
TOKEN=$("$BIN" token --sub bench --scope subjects:erase --ttl 1h)
"$BIN" serve >"$DATA/service.log" 2>&1 &
SERVICE=$!
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.2; done
TIMES=$DATA/times.txt
: >"$TIMES"
for id in $(sql -c "SELECT id FROM bench.erasable ORDER BY n"); do
  out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"reason": "bench"}' "http://127.0.0.1:$PORT/v1/subjects/$id/erasure")
  [ "${out%% *}" = 200 ] || { echo "erasure of $id answered ${out%% *}" >&2; exit 1; }
  echo "${out##* }" >>"$TIMES"
done
sort -n "$TIMES" | awk '{t[NR] = $1 * 1000} END {
  printf "erasures: %d, p50 %.1f ms, p95 %.1f ms, max %.1f ms (target: under 50 ms)\n",
    NR, t[int(NR * 0.5 + 0.5)], t[int(NR * 0.95 + 0.5)], t[NR]}'
say "history rows kept: $(sql -c "SELECT (SELECT count(*) FROM consent_events e JOIN bench.erasable b ON b.id = e.subject_id) || ' consent events, ' || (SELECT count(*) FROM rectifications r JOIN bench.erasable b ON b.id = r.subject_id) || ' rectifications, ' || (SELECT count(*) FROM disclosures d JOIN bench.erasable b ON b.id = d.subject_id) || ' disclosures'")"
