#!/usr/bin/env bash
# A second account on the same machine runs tests right after root's run: each account gets a
# test cluster of its own (under $TMPDIR/planpro-privacy-test-<uid>/), so nothing root left
# behind stands in its way. Runs a small, real part of the already-built test binary as the
# unprivileged account `planpro-ci` (made when missing), then stops that account's cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "skipped: needs root to act as a second account"; exit 0; }
account=planpro-ci
id "$account" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$account"
binary=$(ls -t target/debug/deps/main-* | grep -v '\.d$' | head -n 1)
# The checkout may sit in a home only root can enter: the account gets its own copy of the binary
# (the migrations are compiled into it).
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp "$binary" "$copy/main"
chmod 755 "$copy" "$copy/main"
root="${TMPDIR:-/tmp}/planpro-privacy-test-$(id -u "$account")"
stop() {
  local pg_ctl
  pg_ctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$pg_ctl" ] && [ -f "$root/pg/pgdata/postmaster.pid" ]; then
    runuser -u "$account" -- "$pg_ctl" -D "$root/pg/pgdata" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$copy"
}
trap stop EXIT
cd "$copy"
runuser -u "$account" -- env -u TEST_DATABASE_URL HOME="$copy" "$copy/main" --test-threads 2 \
  auth:: conventions::every_get_route_answers_head
