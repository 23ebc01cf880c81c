#!/usr/bin/env bash
# Builds the page and serves it: http://localhost:${PORT:-8080}/
# The page is served as soon as the CPU package is built. The WebGPU package, minutes more on a
# fresh machine, builds meanwhile (log: $CARGO_TARGET_DIR/webgpu-build.log) and appears in
# pkg/webgpu when done: visitors until then run on the CPU (the page says why), later ones get
# WebGPU. BUILD_WEBGPU=0 skips it.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# shellcheck source=scripts/wasm.sh
source scripts/wasm.sh

bash scripts/setup.sh
wasm_package pkg/cpu flex
wasm_sizes pkg/cpu

if [ "${BUILD_WEBGPU:-1}" != 0 ]; then
  # An older WebGPU package would not match the CPU one just built.
  rm -rf pkg/webgpu
  log="$CARGO_TARGET_DIR/webgpu-build.log"
  echo "serve: building pkg/webgpu in the background (log: $log)"
  (
    if wasm_package pkg/webgpu flex,webgpu >"$log" 2>&1; then
      echo "serve: pkg/webgpu is ready: new visitors get WebGPU; $(wasm_sizes pkg/webgpu)"
    else
      echo "serve: the WebGPU build failed (see $log); the page runs on the CPU"
    fi
  ) &
fi

PORT="${PORT:-8080}"
echo "open http://localhost:$PORT/"
exec node scripts/serve.mjs --port "$PORT"
