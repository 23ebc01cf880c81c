#!/usr/bin/env bash
# The page's benchmark on a real GPU: `bash scripts/bench-gpu.sh [--runs N] [--write]`.
# Builds nothing: it takes the built pkg/ (scripts/build.sh) and runs www/bench.html in headless
# Chromium with WebGPU on the machine's GPU through Vulkan (scripts/chromium.mjs), for both MNIST
# networks on both backends. It prints the adapter Chromium got and fails if that adapter is
# software (SwiftShader, lavapipe), so a CPU cannot pass for a GPU. With --write the table goes
# into BENCHMARKS.md's "bench-gpu" section.
# Needs: Chromium (CHROMIUM=/path, default /usr/bin/chromium), a Vulkan loader and the GPU
# driver's Vulkan ICD (VK_DRIVER_FILES=... where it is not found by itself), and npm's packages.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

for f in pkg/cpu/deep_inside_bg.wasm pkg/webgpu/deep_inside_bg.wasm node_modules/playwright-core/package.json; do
  [ -f "$f" ] || { echo "bench-gpu: $f is missing (run scripts/build.sh and npm ci first)" >&2; exit 1; }
done
command -v vulkaninfo >/dev/null 2>&1 && vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName" || true
exec node scripts/bench.mjs --gpu "$@"
