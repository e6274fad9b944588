#!/bin/sh
# Switchover and node loss under write load on the loopback Patroni cluster of deploy/ha/:
# brings it up, runs bench/failover.py, brings it down. Needs root (PostgreSQL and Patroni run as
# `postgres`), Debian's patroni, etcd-server, haproxy and postgresql-15, and a built binary
# (BIN, default target/release/planpro-privacy). Results: one JSON object on stdout.
set -eu
cd "$(dirname "$0")/.."
export HA_DIR=${HA_DIR:-/tmp/planpro-ha}
export BIN=${BIN:-$PWD/target/release/planpro-privacy}
deploy/ha/loopback.sh up >&2
trap 'deploy/ha/loopback.sh down >&2' EXIT
TOKEN=$(JWT_SECRET=$(cat "$HA_DIR/secrets/jwt_secret") DATABASE_URL=postgres://unused \
    "$BIN" token --sub failover-bench --scope "subjects:read subjects:write access-logs:read" --ttl 1h)
export TOKEN
python3 bench/failover.py
