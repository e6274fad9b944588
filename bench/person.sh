#!/usr/bin/env bash
# Measures what one person sees (issues 22 and 23), on one service in embedded mode:
#   1. GET /v1/subjects/{id}/access-response for a person with READS reads (1,000+ access-log
#      entries), 50 consent events and 100 staff disclosures: p99 at one connection, target < 50 ms.
#   2. GET /v1/me/access-log?limit=100 (the first page) for a person with LOG_ENTRIES entries, with
#      that person's own token: p99 at one connection, target < 10 ms.
#   3. GET /v1/me for PEOPLE persons (a random person's token each request, 64 connections)
#      against the same-run naive SQL baseline (bench/pgbench/me.sql: blind-index lookup, the row
#      with its key and the access-log entry in one transaction): target ≥ 1.8×.
# Each wrk run lasts DURATION seconds and is repeated ROUNDS times (service and baseline
# alternate in 3; the views at one connection are timed once the sealer has caught up); the
# medians are printed.
#
#   bench/person.sh [--bin PATH] [--reads N] [--log-entries N] [--people N] [--duration S]
#                   [--rounds N]
#
# Defaults: 1,000 reads, 10,000 log entries, 1,000 persons, 10 s, 3 rounds. Builds the release
# binary unless --bin is given; the cluster lives under $TMPDIR/planpro-privacy-person.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
READS=1000
LOG_ENTRIES=10000
PEOPLE=1000
DURATION=10
ROUNDS=3
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=${2:?}; shift ;;
    --reads) READS=${2:?}; shift ;;
    --log-entries) LOG_ENTRIES=${2:?}; shift ;;
    --people) PEOPLE=${2:?}; shift ;;
    --duration) DURATION=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${TMPDIR:-/tmp}/planpro-privacy-person-out
DATA=${TMPDIR:-/tmp}/planpro-privacy-person
PORT=18184
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_build
bench_start_service person
export BENCH_DIR=$ROOT/bench

# Valid personal codes (isikukood: the two weight rows of the check digit), n = 1.., men born 1980.
codes() {
  python3 - "$1" "$2" <<'PY'
import sys
first, count = int(sys.argv[1]), int(sys.argv[2])
for n in range(first, first + count):
    body = "38001%02d%03d" % (1 + n // 1000 % 28, n % 1000)
    digits = [int(c) for c in body]
    for weights in ([1, 2, 3, 4, 5, 6, 7, 8, 9, 1], [3, 4, 5, 6, 7, 8, 9, 1, 2, 3]):
        check = sum(d * w for d, w in zip(digits, weights)) % 11
        if check < 10:
            break
    print(body + str(check % 10))
PY
}
person() {
  api -X POST "$BASE/v1/subjects" -d "{\"kind\":\"client\",\"given_name\":\"Mari\",\"family_name\":\"Maasikas\",
    \"personal_code\":\"$1\",\"email\":\"mari@example.ee\",\"source\":{\"type\":\"data_subject\"}}" |
    sed 's/.*"id":"\([^"]*\)".*/\1/'
}
self_token() { DATA_DIR=$DATA "$BIN" token --self "$1"; }
reads() {
  seq 1 "$2" | xargs -P 4 -I{} curl -s -f -o /dev/null -H "Authorization: Bearer $TOKEN" \
    "$BASE/v1/subjects/$1"
}
# One wrk run: NAME CONNECTIONS SCRIPT, with BENCH_* exported by the caller; prints rps and p99.
run_wrk() {
  local name=$1 conns=$2 script=$3 threads=2
  [ "$conns" -gt 1 ] || threads=1
  BENCH_RESULT=$OUT/$name.txt wrk -t "$threads" -c "$conns" -d "${DURATION}s" --latency -s "$script" "$BASE" >/dev/null
  awk -F= '/^(rps|p50_ms|p99_ms|non2xx)=/ {v[$1] = $2} END {
    if (v["non2xx"] > 0) {print "non-2xx answers" > "/dev/stderr"; exit 1}
    print v["rps"], v["p50_ms"], v["p99_ms"]}' "$OUT/$name.txt"
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
wait_for_checkpoint() {
  until [ "$(scalar "SELECT coalesce((SELECT max(size) FROM access_log_checkpoint), 0) >= (SELECT count(*) FROM access_log)")" = t ]; do
    sleep 0.2
  done
}

mapfile -t CODES < <(codes 1 "$((PEOPLE + 2))")
say "person A: 50 consent events, 100 disclosures, $READS reads"
A=$(person "${CODES[0]}")
for i in $(seq 1 50); do
  status=granted; [ $((i % 2)) = 0 ] && status=withdrawn
  api -X PUT "$BASE/v1/subjects/$A/consents/marketing_partners" \
    -d "{\"status\":\"$status\",\"method\":\"web_form\",\"evidence\":\"form $i\"}" >/dev/null
done
R=$(bench_recipient)
api -X POST "$BASE/v1/subjects/$A/disclosure-authorizations" -d "{\"recipient_id\":\"$R\",
  \"legal_basis\":\"legal_obligation\",\"legal_reference\":\"Ehitusseadustik § 42\",
  \"data_categories\":[\"identity\",\"contact\"],\"purpose\":\"building permit\"}" >/dev/null
for i in $(seq 1 100); do
  api -X POST "$BASE/v1/subjects/$A/disclosures" -d "{\"recipient_id\":\"$R\",
    \"data_categories\":[\"identity\"],\"channel\":\"api\",\"note\":\"permit $i\"}" >/dev/null
done
reads "$A" "$READS"
say "person B: $LOG_ENTRIES reads; $PEOPLE persons with their own tokens"
B=$(person "${CODES[1]}")
reads "$B" "$LOG_ENTRIES"
printf '%s\n' "${CODES[@]:2}" | xargs -P 4 -I{} curl -s -f -o /dev/null -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -X POST "$BASE/v1/subjects" -d '{"kind":"client",
  "given_name":"Jaan","family_name":"Tamm","personal_code":"{}","source":{"type":"data_subject"}}'
printf '%s\n' "${CODES[@]:2}" | while read -r code; do self_token "$code"; done >"$OUT/tokens.txt"
TOKEN_B=$(self_token "${CODES[1]}")
wait_for_checkpoint
# The baseline's lookup table: the persons' blind indexes, numbered for pgbench.
scalar "DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;
  CREATE TABLE bench.people AS SELECT row_number() OVER (ORDER BY id) AS n, personal_code_bidx AS bidx
  FROM subjects WHERE id NOT IN ('$A', '$B') AND personal_code_bidx IS NOT NULL;
  CREATE UNIQUE INDEX ON bench.people (n);" >/dev/null
# As bench/run.sh does before its rounds: the set-up's dead rows and dirty pages are not measured.
scalar "VACUUM ANALYZE" >/dev/null
scalar "CHECKPOINT" >/dev/null
say "entries: person A $(scalar "SELECT count(*) FROM access_log WHERE subject_id = '$A'"), person B $(scalar "SELECT count(*) FROM access_log WHERE subject_id = '$B'")"

: >"$OUT/ar.p99"; : >"$OUT/log.p99"; : >"$OUT/me.rps"; : >"$OUT/base.tps"
# The views at one connection first, each after the sealer has caught up (what it chains in the
# background is not what is measured), then the throughput runs.
for round in $(seq 1 "$ROUNDS"); do
  wait_for_checkpoint
  read -r _ _ p99 < <(BENCH_TOKEN=$TOKEN BENCH_PATH="/v1/subjects/$A/access-response" \
    run_wrk "ar-$round" 1 "$ROOT/bench/wrk/fixed_get.lua")
  echo "$p99" >>"$OUT/ar.p99"
  wait_for_checkpoint
  read -r _ _ p99 < <(BENCH_TOKEN=$TOKEN_B BENCH_PATH="/v1/me/access-log?limit=100" \
    run_wrk "log-$round" 1 "$ROOT/bench/wrk/fixed_get.lua")
  echo "$p99" >>"$OUT/log.p99"
  say "round $round: access response p99 $(tail -1 "$OUT/ar.p99") ms, /v1/me/access-log p99 $(tail -1 "$OUT/log.p99") ms"
done
for round in $(seq 1 "$ROUNDS"); do
  read -r rps _ _ < <(BENCH_IDS=$OUT/tokens.txt run_wrk "me-$round" 64 "$ROOT/bench/wrk/me.lua")
  echo "$rps" >>"$OUT/me.rps"
  pgbench -h "$SOCK" -U postgres -n -c 64 -j 2 -T "$DURATION" -D "npeople=$((PEOPLE))" \
    -f "$ROOT/bench/pgbench/me.sql" planpro 2>/dev/null |
    awk '/^tps/ {print $3}' >>"$OUT/base.tps"
  say "round $round: /v1/me $(tail -1 "$OUT/me.rps") req/s, baseline $(tail -1 "$OUT/base.tps") tps"
done
AR=$(median <"$OUT/ar.p99"); LOG=$(median <"$OUT/log.p99")
ME=$(median <"$OUT/me.rps"); BASEL=$(median <"$OUT/base.tps")
echo "access response (GET /v1/subjects/{id}/access-response), 1 connection: p99 $AR ms (target: under 50 ms)"
echo "/v1/me/access-log?limit=100 of $LOG_ENTRIES entries, 1 connection: p99 $LOG ms (target: under 10 ms)"
awk -v s="$ME" -v b="$BASEL" 'BEGIN {printf "/v1/me, 64 connections: %.1f req/s against the baseline'"'"'s %.1f tps: %.2fx (target: at least 1.8x)\n", s, b, s / b}'
