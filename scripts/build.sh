#!/usr/bin/env bash
# Builds the wasm packages the page loads:
#   pkg/cpu     burn's flex CPU backend
#   pkg/reader  the reader of users' model files (ONNX, safetensors), loaded when one is dropped
#   pkg/webgpu  flex + burn's WebGPU backend   (skip with BUILD_WEBGPU=0)
# Neither goes through wasm-opt: it makes them smaller raw but not gzipped (BENCHMARKS.md,
# "Builds and sizes").
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# shellcheck source=scripts/wasm.sh
source scripts/wasm.sh

bash scripts/setup.sh

built=(pkg/cpu pkg/reader)
wasm_package pkg/cpu flex,web
wasm_package pkg/reader flex,reader
if [ "${BUILD_WEBGPU:-1}" != 0 ]; then
  wasm_package pkg/webgpu flex,webgpu,web
  built+=(pkg/webgpu)
fi
wasm_sizes "${built[@]}"
