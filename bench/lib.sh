# The set-up shared by the scripts that measure one service in embedded mode (bench/loop.sh,
# bench/notices.sh): sourced, not run. The caller sets ROOT, OUT, DATA, PORT and BIN (empty: build
# the release binary) before calling these.

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# Builds the release binary unless BIN is set; extra arguments go to cargo (e.g. an example).
bench_build() {
  [ -n "$BIN" ] && return 0
  say "cargo build --release $*"
  (cd "$ROOT" && cargo build --release --quiet --bin planpro-privacy "$@")
  BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/planpro-privacy
}

# Processes stopped when the script exits, the service last-started first.
BENCH_PIDS=()
bench_cleanup() {
  local i
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${BENCH_PIDS[i]}" 2>/dev/null || true
    wait "${BENCH_PIDS[i]}" 2>/dev/null || true
  done
}
trap bench_cleanup EXIT

# Starts the service on a fresh embedded cluster under DATA with the given extra environment
# (NAME=value ...), waits until it is ready, and sets BASE, TOKEN (the development token it prints)
# and SOCK (its PostgreSQL socket directory). The log goes to $OUT/NAME-service.log.
bench_start_service() {
  local name=$1
  shift
  mkdir -p "$OUT"
  rm -rf "$DATA"
  BASE=http://127.0.0.1:$PORT
  env DATA_DIR="$DATA" BIND_ADDR="127.0.0.1:$PORT" RUST_LOG=warn "$@" \
    "$BIN" serve >"$OUT/$name-service.log" 2>&1 &
  BENCH_PIDS+=($!)
  local ready=""
  for _ in $(seq 1 600); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/readyz" || true)" = 200 ]; then
      ready=yes
      break
    fi
    sleep 0.1
  done
  [ -n "$ready" ] || { echo "not ready in 60 s; see $OUT/$name-service.log" >&2; exit 1; }
  TOKEN=$(awk '/^development token/ {getline; print; exit}' "$OUT/$name-service.log")
  [ -n "$TOKEN" ] || { echo "no development token in $OUT/$name-service.log" >&2; exit 1; }
  SOCK=$DATA/postgres/run
}

# One value from the service's database.
scalar() { psql -h "$SOCK" -U postgres -X -At -v ON_ERROR_STOP=1 -c "$1" planpro; }

# A call with the development token; fails on a non-2xx answer.
api() { curl -s -f -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }

# Creates a recipient and prints its id.
bench_recipient() {
  api -X POST "$BASE/v1/recipients" \
    -d '{"name":"Bench OÜ","category":"platform_service_provider","contact_email":"b@bench.ee"}' |
    sed 's/.*"id":"\([^"]*\)".*/\1/'
}
