#!/bin/sh
# The topology of docker-compose.yml on 127.0.0.1 from Debian's packages, without Docker:
# etcd, three Patroni + PostgreSQL 15 nodes (synchronous mode strict, data checksums, pg_rewind),
# HAProxy sending connections to the primary (Patroni's /primary), and two service instances.
#
#   apt-get install -y patroni etcd-server haproxy postgresql-15
#   deploy/ha/loopback.sh up      # prints the service URLs
#   deploy/ha/loopback.sh status  # patronictl list
#   deploy/ha/loopback.sh down    # stops what `up` started, removes $HA_DIR
#
# HA_DIR (default /tmp/planpro-ha) holds everything; BIN is the service binary (default
# target/release/planpro-privacy). PostgreSQL and Patroni run as the account `postgres`.
# Ports: etcd 23790, PostgreSQL 54321-54323, Patroni REST 8009-8011, HAProxy 55000 (stats 55001),
# services 18081 and 18082.
set -eu

HA_DIR=${HA_DIR:-/tmp/planpro-ha}
BIN=${BIN:-target/release/planpro-privacy}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${PG_USER:-postgres}
HERE=$(cd "$(dirname "$0")" && pwd)

as_pg() { setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups "$@"; }

start_bg() { # name, then the command: runs detached, pid kept in $HA_DIR/run/name.pid
    name=$1; shift
    nohup "$@" >"$HA_DIR/log/$name.log" 2>&1 &
    echo $! >"$HA_DIR/run/$name.pid"
}

wait_for() { # seconds, description, command...
    limit=$1; what=$2; shift 2
    i=0
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt $((limit * 5)) ]; then echo "timed out waiting for $what" >&2; exit 1; fi
        sleep 0.2
    done
}

node_config() { # n
    n=$1
    cat <<YAML
scope: planpro
namespace: /planpro/
name: pg$n
restapi:
  listen: 127.0.0.1:$((8008 + n))
  connect_address: 127.0.0.1:$((8008 + n))
etcd3:
  hosts: 127.0.0.1:23790
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 0
    synchronous_mode: true
    synchronous_mode_strict: true
    synchronous_node_count: 1
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        wal_log_hints: "on"
        hot_standby: "on"
        synchronous_commit: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 200
  post_bootstrap: $HA_DIR/post-bootstrap.sh
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:$((54320 + n))
  connect_address: 127.0.0.1:$((54320 + n))
  data_dir: $HA_DIR/pg$n/data
  bin_dir: $PG_BIN
  pgpass: $HA_DIR/pg$n/pgpass
  basebackup:
    - checkpoint: fast
  parameters:
    unix_socket_directories: $HA_DIR/pg$n
  authentication:
    superuser: {username: postgres, password: "$(cat "$HA_DIR/secrets/pg")"}
    replication: {username: replicator, password: "$(cat "$HA_DIR/secrets/pg")"}
    rewind: {username: rewinder, password: "$(cat "$HA_DIR/secrets/pg")"}
tags: {nofailover: false, noloadbalance: false, clonefrom: false, nosync: false}
YAML
}

haproxy_config() {
    sed -e "s/bind \*:5000/bind 127.0.0.1:55000/" \
        -e "s/server pg\([123]\) pg[123]:5432 maxconn 1000 check port 8008/server pg\1 127.0.0.1:5432\1 maxconn 1000 check port 800X\1/" \
        "$HERE/haproxy.cfg" |
        sed -e "s/800X1/8009/" -e "s/800X2/8010/" -e "s/800X3/8011/"
    printf '\nlisten stats\n    mode http\n    bind 127.0.0.1:55001\n    stats enable\n    stats uri /\n'
}

up() {
    mkdir -p "$HA_DIR/run" "$HA_DIR/log" "$HA_DIR/secrets" "$HA_DIR/etcd"
    for n in 1 2 3; do mkdir -p "$HA_DIR/pg$n"; done
    chown -R "$PG_USER" "$HA_DIR/etcd" "$HA_DIR/pg1" "$HA_DIR/pg2" "$HA_DIR/pg3"
    chmod 0755 "$HA_DIR"
    [ -f "$HA_DIR/secrets/pg" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$HA_DIR/secrets/pg"
    [ -f "$HA_DIR/secrets/app" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$HA_DIR/secrets/app"
    cat >"$HA_DIR/post-bootstrap.sh" <<SH
#!/bin/sh
set -eu
psql "\$1" -v ON_ERROR_STOP=1 -c "CREATE ROLE planpro LOGIN PASSWORD '$(cat "$HA_DIR/secrets/app")'" -c "CREATE DATABASE planpro OWNER planpro"
SH
    chmod 0755 "$HA_DIR/post-bootstrap.sh"
    start_bg etcd setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups etcd --name ha --data-dir "$HA_DIR/etcd/data" \
        --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
        --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
        --initial-cluster ha=http://127.0.0.1:23800 --enable-v2=false
    wait_for 20 etcd curl -fsS http://127.0.0.1:23790/health
    for n in 1 2 3; do
        node_config "$n" >"$HA_DIR/pg$n.yml"
        chown "$PG_USER" "$HA_DIR/pg$n.yml"
        chmod 0600 "$HA_DIR/pg$n.yml"
        start_bg "pg$n" setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups env HOME="$HA_DIR/pg$n" patroni "$HA_DIR/pg$n.yml"
        if [ "$n" = 1 ]; then wait_for 60 "the first primary" curl -fsS http://127.0.0.1:8009/primary; fi
    done
    wait_for 180 "a synchronous standby" sh -c "curl -fsS http://127.0.0.1:8010/sync || curl -fsS http://127.0.0.1:8011/sync"
    haproxy_config >"$HA_DIR/haproxy.cfg"
    start_bg haproxy haproxy -db -f "$HA_DIR/haproxy.cfg"
    wait_for 20 haproxy curl -fsS http://127.0.0.1:55001/
    keys="$HA_DIR/secrets"
    [ -f "$keys/data_key" ] || head -c 32 /dev/urandom | base64 >"$keys/data_key"
    [ -f "$keys/access_log_key" ] || head -c 32 /dev/urandom | base64 >"$keys/access_log_key"
    [ -f "$keys/jwt_secret" ] || head -c 48 /dev/urandom | base64 | tr -d '\n' >"$keys/jwt_secret"
    [ -f "$keys/checkpoint.pem" ] || openssl genpkey -algorithm ed25519 -out "$keys/checkpoint.pem"
    [ -f "$keys/receipt.pem" ] || openssl genpkey -algorithm ed25519 -out "$keys/receipt.pem"
    printf 'postgres://planpro:%s@127.0.0.1:55000/planpro' "$(cat "$keys/app")" >"$keys/database_url"
    for i in 1 2; do
        start_bg "app$i" env DATABASE_URL_FILE="$keys/database_url" JWT_SECRET_FILE="$keys/jwt_secret" \
            DATA_KEY_FILE="$keys/data_key" ACCESS_LOG_KEY_FILE="$keys/access_log_key" \
            CHECKPOINT_SIGNING_KEY_FILE="$keys/checkpoint.pem" RECEIPT_SIGNING_KEY_FILE="$keys/receipt.pem" \
            DATA_DIR="$HA_DIR/app$i" BIND_ADDR="127.0.0.1:$((18080 + i))" DB_POOL_SIZE=20 RUST_LOG=warn \
            "$BIN" serve
        # The first instance migrates; the second starts once it has.
        wait_for 120 "service $i" curl -fsS "http://127.0.0.1:$((18080 + i))/readyz"
    done
    echo "services: http://127.0.0.1:18081 http://127.0.0.1:18082 (JWT secret in $keys/jwt_secret)"
}

status() {
    patronictl -c "$HA_DIR/pg1.yml" list
}

down() {
    for name in app1 app2 haproxy pg3 pg2 pg1 etcd; do
        pidfile="$HA_DIR/run/$name.pid"
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    done
    # PostgreSQL outlives a killed Patroni: stop each node's postmaster by its data directory.
    for n in 1 2 3; do
        [ -f "$HA_DIR/pg$n/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$HA_DIR/pg$n/data" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$HA_DIR"
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
