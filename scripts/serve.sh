#!/usr/bin/env bash
# Builds the page and serves it: http://localhost:${PORT:-8080}/
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

bash scripts/build.sh
PORT="${PORT:-8080}"
echo "open http://localhost:$PORT/"
exec node scripts/serve.mjs --port "$PORT"
