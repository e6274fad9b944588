#!/usr/bin/env bash
# Generators must trust openapi/openapi.json: generate a Python client with openapi-python-client
# (from PyPI, in a virtualenv under $TMPDIR kept between runs) with its default settings, as an
# integrator would, then use it against the running service to create, read, rectify and export a
# subject and fetch a consent receipt (.ci/python_client_check.py).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${TMPDIR:-/tmp}/planpro-python-client-venv"
if [ ! -x "$venv/bin/openapi-python-client" ] || [ ! -x "$venv/bin/ruff" ]; then
  python3 -m venv "$venv"
  # ruff: the generator's default post-generation hooks format the client with it.
  "$venv/bin/pip" install -q openapi-python-client python-dateutil ruff
fi
export PATH="$venv/bin:$PATH"
cargo build -q --bin planpro-privacy

work="$(mktemp -d)"
chmod 755 "$work"  # the embedded PostgreSQL may run as another account
pid=""
cleanup() {
  [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

# Generation warnings (a skipped operation or model) fail the check: the client must be whole.
(cd "$work" && "$venv/bin/openapi-python-client" generate --path "$OLDPWD/openapi/openapi.json" \
  --meta none --output-path planpro_client --fail-on-warning)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DATA_DIR="$work/data" BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn
target/debug/planpro-privacy serve > "$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/service.log"; exit 1; }
token=$(target/debug/planpro-privacy token --sub python-client --scope "subjects:read subjects:write consents:read consents:write" --ttl 10m)
PYTHONPATH="$work" "$venv/bin/python" .ci/python_client_check.py "http://127.0.0.1:$port" "$token"
