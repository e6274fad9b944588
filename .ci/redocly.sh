#!/usr/bin/env bash
# Redocly's recommended rules on the committed OpenAPI document: an error fails CI (warnings are
# printed). Redocly's CLI comes from npm through npx, pinned; about 5 s once cached.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npx >/dev/null 2>&1 || { echo "skipped: npx (Node.js) is not installed"; exit 0; }
npx -y @redocly/cli@2.77.0 lint --extends recommended openapi/openapi.json
