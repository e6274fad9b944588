#!/usr/bin/env bash
# Times the access log's integrity work on 1,000,000 keyed entries (the issue-15 targets):
#   * sealing: chain, MAC checks, Merkle tree and checkpoint of every bulk-loaded entry, as
#     entries per second from service start (the tree must keep up with the peak append rate,
#     about 20,000 entries/s);
#   * `GET /v1/access-logs/verify` over all of them (target: under 3 s), three times.
#
#   bench/verify.sh [--entries N] [--bin PATH]
#
# Run it on an otherwise idle machine; it builds the release binary unless --bin is given, makes
# its own cluster under $TMPDIR/planpro-privacy-verify (deleted first) and prints the figures.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ENTRIES=1000000
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --entries) ENTRIES=${2:?}; shift ;;
    --bin) BIN=${2:?}; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
if [ -z "$BIN" ]; then cargo build --release --quiet; BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/planpro-privacy; fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DATA=${TMPDIR:-/tmp}/planpro-privacy-verify
rm -rf "$DATA"
PORT=18179
export DATA_DIR=$DATA BIND_ADDR=127.0.0.1:$PORT
export JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export ACCESS_LOG_KEY=$(head -c 32 /dev/urandom | base64)
SOCK=$DATA/postgres/run
PGDATA_DIR=$DATA/postgres/pgdata
as_owner() { local o; o=$(stat -c %U "$PGDATA_DIR"); if [ "$(id -u)" = 0 ] && [ "$o" != root ]; then runuser -u "$o" -- "$@"; else "$@"; fi; }
# bench/data.sql loads in clear at the schema before encryption at rest; `migrate` then encrypts
# it in place (as bench/run.sh does).
"$BIN" migrate --before 2026-12-01-220000 >/dev/null 2>&1
as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$DATA/postgres/postgres.log" -w start >/dev/null
SERVICE=""
trap '[ -z "$SERVICE" ] || kill -TERM "$SERVICE" 2>/dev/null; wait 2>/dev/null; as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null || true' EXIT
scalar() { psql -h "$SOCK" -U postgres -X -At -v ON_ERROR_STOP=1 -c "$1" planpro; }
say "loading $ENTRIES keyed entries"
psql -h "$SOCK" -U postgres -X -q -v ON_ERROR_STOP=1 -v subjects=10000 -v entries="$ENTRIES" -v eligibility=10 \
  -v access_log_key="$ACCESS_LOG_KEY" -f bench/data.sql planpro >/dev/null
"$BIN" migrate >"$DATA/migrate.log" 2>&1 || { tail -n 20 "$DATA/migrate.log" >&2; exit 1; }
TOKEN=$("$BIN" token --sub bench --scope access-logs:read --ttl 1h)
t0=$(date +%s.%N)
"$BIN" serve >"$DATA/service.log" 2>&1 &
SERVICE=$!
while [ "$(scalar "SELECT coalesce(max(size), 0) >= $ENTRIES FROM access_log_checkpoint")" != t ]; do sleep 0.2; done
t1=$(date +%s.%N)
say "sealed, tree built and checkpointed: $(awk -v a="$t0" -v b="$t1" -v n="$ENTRIES" 'BEGIN {printf "%.1f s, %.0f entries/s (start-up included)", b - a, n / (b - a)}')"
for i in 1 2 3; do
  out=$(curl -s -w ' %{time_total}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/v1/access-logs/verify")
  say "verify $i: ${out##* } s: ${out% *}"
done
