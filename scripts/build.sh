#!/usr/bin/env bash
# Builds the two wasm packages the page loads:
#   pkg/cpu     burn's flex CPU backend
#   pkg/webgpu  flex + burn's WebGPU backend   (skip with BUILD_WEBGPU=0)
# then shrinks the WebGPU one with binaryen's wasm-opt from node_modules. The CPU build ships
# without wasm-opt: -Oz made it smaller raw but larger gzipped, and no faster (BENCHMARKS.md,
# "Levers on the CPU build").
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
  wasm_optimise pkg/webgpu/deep_inside_bg.wasm
  built+=(pkg/webgpu)
fi
wasm_sizes "${built[@]}"
