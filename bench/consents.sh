#!/usr/bin/env bash
# Times a material purpose version over GRANTS grants in force (issue 24's target: under 10 s,
# without blocking reads). Inserts GRANTS persons with a grant of the opt-in purpose
# `marketing_partners` with SQL, then runs the consent read GET /v1/subjects/{id}/consents
# under wrk (64 connections, DURATION seconds) twice: once alone, once while
# POST /v1/purposes/marketing_partners/versions (material) is made DELAY seconds in. Prints the
# version's time and both runs' throughput, p99 and maximum latency, and checks afterwards that
# the grants read as `invalidated`.
#
#   bench/consents.sh [--bin PATH] [--grants N] [--duration S] [--delay S]
#
# Defaults: 1,000,000 grants, 20 s, 5 s. Builds the release binary unless --bin is given; the
# cluster lives under $TMPDIR/planpro-privacy-consents.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GRANTS=1000000
DURATION=20
DELAY=5
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=${2:?}; shift ;;
    --grants) GRANTS=${2:?}; shift ;;
    --duration) DURATION=${2:?}; shift ;;
    --delay) DELAY=${2:?}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${TMPDIR:-/tmp}/planpro-privacy-consents-out
DATA=${TMPDIR:-/tmp}/planpro-privacy-consents
PORT=18185
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_build
bench_start_service consents
export BENCH_DIR=$ROOT/bench

say "inserting $GRANTS persons with a grant of marketing_partners"
start=$(date +%s.%N)
scalar "INSERT INTO subjects (id, version, kind, source_type, created_at, updated_at, last_activity_at)
  SELECT gen_random_uuid(), 1, 'client', 'data_subject', now(), now(), now()
  FROM generate_series(1, $GRANTS);
INSERT INTO consents (subject_id, purpose_id, status, method, updated_at, updated_by, last_event_id,
  purpose_version, ever_granted, renewed, given_at)
  SELECT id, 'marketing_partners', 'granted', 'api', now(), 'bench', gen_random_uuid(), 1, true,
    false, now() FROM subjects;" >/dev/null
scalar "VACUUM ANALYZE" >/dev/null
scalar "CHECKPOINT" >/dev/null
say "inserted in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}') s"
scalar "SELECT id FROM subjects ORDER BY random() LIMIT 10000" >"$OUT/ids.txt"
cat >"$OUT/read.lua" <<'EOF'
package.path = (os.getenv("BENCH_DIR") or "bench") .. "/wrk/?.lua;" .. package.path
require("common").random_ids("GET", "/v1/subjects/%s/consents", nil)
EOF
run_reads() {
  BENCH_TOKEN=$TOKEN BENCH_IDS=$OUT/ids.txt BENCH_RESULT=$OUT/$1.txt \
    wrk -t 2 -c 64 -d "${DURATION}s" --latency -s "$OUT/read.lua" "$BASE" >/dev/null
  awk -F= '/^(rps|p99_ms|max_ms|non2xx)=/ {v[$1] = $2} END {
    printf "%s req/s, p99 %s ms, max %s ms, non-2xx %s\n", v["rps"], v["p99_ms"], v["max_ms"], v["non2xx"]}' \
    "$OUT/$1.txt"
}
say "reads alone: $(run_reads alone)"
run_reads during >"$OUT/during.summary" &
READS_PID=$!
sleep "$DELAY"
TIME=$(api -o /dev/null -w '%{time_total}' -X POST -H 'If-Match: "1"' \
  "$BASE/v1/purposes/marketing_partners/versions" -d '{"text":{"et":"Uus tekst","en":"New text"},
  "policy_url":"https://planpro.ee/privaatsus","material":true,"confirmation":"none"}')
wait "$READS_PID"
say "reads during the version: $(cat "$OUT/during.summary")"
invalidated=$(api "$BASE/v1/subjects/$(head -1 "$OUT/ids.txt")/consents" | python3 -c '
import json, sys
items = json.load(sys.stdin)
items = items.get("items", items) if isinstance(items, dict) else items
print([c["state"] for c in items if c.get("purpose") == "marketing_partners"])')
say "a grant now reads as: $invalidated"
awk -v t="$TIME" -v n="$GRANTS" 'BEGIN {printf "material version over %d grants: %.2f s (target: under 10 s)\n", n, t}'
