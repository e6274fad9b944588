#!/usr/bin/env bash
# The benchmark scripts in a tiny mode, so that they cannot rot: small data (10,000 subjects,
# 100,000 access-log entries), 2 s per run, one round, with the debug build that `cargo test`
# has already compiled; then the loop and notice scripts with a thousand rows or fewer. Timings
# are printed, never judged; it fails (non-zero) when a tool is missing and cannot be installed,
# when a script breaks, or when the service answers anything but 2xx. .ci/run calls it.
#
# A scenario whose endpoint is absent from the service's own /openapi.json (not merged yet) is
# reported as SKIPPED; BENCH_STRICT=1 makes that a failure too. bench/run.sh always fails then.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v pgbench >/dev/null 2>&1 || need+=(postgresql-contrib)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench/smoke.sh: installing ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}"
fi

cargo build --quiet --bin planpro-privacy --example webhook_receiver
BIN=${CARGO_TARGET_DIR:-target}/debug/planpro-privacy
bench/run.sh --smoke --bin "$BIN" "$@"
bench/loop.sh --bin "$BIN" --notices 1000 --requests 1000 --runs 3
bench/notices.sh --bin "$BIN" --latency 20 --bulk 500
