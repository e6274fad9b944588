#!/usr/bin/env bash
# What CI runs of the fuzzing: schemathesis against the live service (the property tests of the
# validators and the cursor decoder run inside `cargo test`).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz/schemathesis.sh "${SCHEMATHESIS_EXAMPLES:-25}"
