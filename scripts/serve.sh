#!/usr/bin/env bash
# Builds the page and serves it: http://localhost:${PORT:-8080}/
# The page is served as soon as the CPU package is built. The reader of users' model files, then
# the WebGPU package (minutes more on a fresh machine), build meanwhile (log:
# $CARGO_TARGET_DIR/webgpu-build.log) and appear in pkg/reader and pkg/webgpu when done: until
# then a dropped model file is refused with a message that says so, and visitors run on the CPU
# (the page says why); later ones get WebGPU. BUILD_WEBGPU=0 skips the WebGPU package.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# shellcheck source=scripts/wasm.sh
source scripts/wasm.sh

# Only the page's tools: no test tools, mdBook or npm packages before the first page.
bash scripts/setup.sh --page
wasm_package pkg/cpu flex,web
wasm_sizes pkg/cpu

# Older packages would not match the CPU one just built.
rm -rf pkg/reader pkg/webgpu
log="$CARGO_TARGET_DIR/webgpu-build.log"
echo "serve: building pkg/reader and pkg/webgpu in the background (log: $log)"
(
  if wasm_package pkg/reader flex,reader >"$log" 2>&1; then
    echo "serve: pkg/reader is ready: the page reads model files; $(wasm_sizes pkg/reader)"
  else
    echo "serve: the reader build failed (see $log); the page refuses model files"
  fi
  if [ "${BUILD_WEBGPU:-1}" != 0 ]; then
    if wasm_package pkg/webgpu flex,webgpu,web >>"$log" 2>&1; then
      echo "serve: pkg/webgpu is ready: new visitors get WebGPU; $(wasm_sizes pkg/webgpu)"
    else
      echo "serve: the WebGPU build failed (see $log); the page runs on the CPU"
    fi
  fi
) &

PORT="${PORT:-8080}"
echo "open http://localhost:$PORT/"
exec node scripts/serve.mjs --port "$PORT"
