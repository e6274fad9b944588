#!/usr/bin/env bash
# Times the evidence bundle (issue 23's targets: a bundle for a person with 1,000 access-log
# entries in under 1 s; `verify-bundle` of it in under 0.5 s). Makes one person through the API
# with 50 consent events and 1,000 reads (so 1,000+ entries, each with its proof), waits for a
# checkpoint that holds them all, then fetches the bundle RUNS times and verifies it RUNS times,
# printing the p50 and maximum of each and the bundle's size.
#
#   bench/evidence.sh [--runs N] [--reads M] [--bin PATH]
#
# Defaults: 20 runs, 1,000 reads. Builds the release binary unless --bin is given; runs the
# service in embedded mode under $TMPDIR/planpro-privacy-evidence (deleted first).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=20
READS=1000
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=${2:?}; shift ;;
    --reads) READS=${2:?}; shift ;;
    --bin) BIN=${2:?}; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${TMPDIR:-/tmp}/planpro-privacy-evidence-out
DATA=${TMPDIR:-/tmp}/planpro-privacy-evidence
PORT=18183
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_build
bench_start_service evidence CHECKPOINT_INTERVAL_MS=200
ID=$(api -X POST "$BASE/v1/subjects" -d '{"kind":"client","given_name":"Mari","family_name":"Maasikas",
  "email":"mari@example.ee","source":{"type":"data_subject"}}' | sed 's/.*"id":"\([^"]*\)".*/\1/')
say "subject $ID: 50 consent events, $READS reads"
for i in $(seq 1 50); do
  status=granted; [ $((i % 2)) = 0 ] && status=withdrawn
  api -X PUT "$BASE/v1/subjects/$ID/consents/marketing_partners" \
    -d "{\"status\":\"$status\",\"method\":\"web_form\",\"evidence\":\"form $i\"}" >/dev/null
done
seq 1 "$READS" | xargs -P 4 -I{} curl -s -f -o /dev/null -H "Authorization: Bearer $TOKEN" \
  "$BASE/v1/subjects/$ID"
until [ "$(scalar "SELECT coalesce((SELECT max(size) FROM access_log_checkpoint), 0) >= (SELECT count(*) FROM access_log)")" = t ]; do
  sleep 0.2
done
say "entries about the subject: $(scalar "SELECT count(*) FROM access_log WHERE subject_id = '$ID'")"
ZIP=$OUT/bundle.zip
: >"$OUT/fetch.txt"
: >"$OUT/verify.txt"
for _ in $(seq 1 "$RUNS"); do
  rm -f "$ZIP"
  curl -s -f -o "$ZIP" -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
    "$BASE/v1/evidence-bundle?subject_id=$ID" >>"$OUT/fetch.txt"
  start=$(date +%s.%N)
  "$BIN" verify-bundle "$ZIP" >/dev/null
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}' >>"$OUT/verify.txt"
done
summary() {
  sort -n "$1" | awk -v what="$2" -v target="$3" '{t[NR] = $1 * 1000} END {
    printf "%s: %d runs, p50 %.0f ms, max %.0f ms (target: under %s)\n",
      what, NR, t[int(NR * 0.5 + 0.5)], t[NR], target}'
}
summary "$OUT/fetch.txt" "bundle (GET /v1/evidence-bundle)" "1 s"
summary "$OUT/verify.txt" "verify-bundle" "0.5 s"
say "bundle: $(stat -c %s "$ZIP") bytes, $(python3 -c 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' "$ZIP") files"
