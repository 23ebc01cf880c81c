#!/usr/bin/env bash
# Builds the two wasm packages the page loads:
#   pkg/cpu     burn's flex CPU backend
#   pkg/webgpu  flex + burn's WebGPU backend   (skip with BUILD_WEBGPU=0)
# Neither goes through wasm-opt: it makes them smaller raw but not gzipped (BENCHMARKS.md,
# "Builds and sizes").
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# shellcheck source=scripts/wasm.sh
source scripts/wasm.sh

bash scripts/setup.sh

built=(pkg/cpu)
wasm_package pkg/cpu flex
if [ "${BUILD_WEBGPU:-1}" != 0 ]; then
  wasm_package pkg/webgpu flex,webgpu
  built+=(pkg/webgpu)
fi
wasm_sizes "${built[@]}"
