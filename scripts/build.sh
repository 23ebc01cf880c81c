#!/usr/bin/env bash
# Builds the two wasm packages the page loads:
#   pkg/cpu     burn's flex CPU backend
#   pkg/webgpu  flex + burn's WebGPU backend   (skip with BUILD_WEBGPU=0)
# then shrinks the WebGPU one with binaryen's wasm-opt from node_modules when present. The CPU
# build ships without wasm-opt: -Oz made it smaller raw but larger gzipped, and no faster
# (BENCHMARKS.md, "Levers on the CPU build").
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

bash scripts/setup.sh

# wasm SIMD (+simd128) comes from .cargo/config.toml.
WASM_OPT=node_modules/binaryen/bin/wasm-opt
# Features rustc's wasm32-unknown-unknown output uses by default, plus SIMD.
WASM_OPT_FLAGS=(
  -Oz
  --enable-simd
  --enable-bulk-memory
  --enable-bulk-memory-opt
  --enable-nontrapping-float-to-int
  --enable-sign-ext
  --enable-mutable-globals
  --enable-reference-types
  --enable-multivalue
  --enable-call-indirect-overlong
)

# wasm-opt is slow on the WebGPU build (minutes), so its output is cached by the hash of its
# input: an unchanged build is not optimised twice.
OPT_CACHE="${CARGO_TARGET_DIR:-target}/wasm-opt-cache"

optimise() {
  local wasm="$1" tmp="$1.opt.tmp" key cached
  [ -f "$WASM_OPT" ] || return 0
  key=$( (sha256sum "$wasm"; sha256sum "$WASM_OPT"; echo "${WASM_OPT_FLAGS[*]}") | sha256sum | cut -c1-32)
  cached="$OPT_CACHE/$key.wasm"
  if [ -s "$cached" ]; then
    echo "build: wasm-opt -Oz $wasm (cached)"
    cp -f "$cached" "$wasm"
    return 0
  fi
  echo "build: wasm-opt -Oz $wasm"
  rm -f "$tmp"
  if node "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$wasm" -o "$tmp" \
     && [ -s "$tmp" ] \
     && node -e 'process.exit(WebAssembly.validate(require("fs").readFileSync(process.argv[1])) ? 0 : 1)' "$tmp"; then
    mv -f "$tmp" "$wasm"
    mkdir -p "$OPT_CACHE"
    cp -f "$wasm" "$cached"
  else
    rm -f "$tmp"
    echo "build: warning: wasm-opt failed on $wasm; keeping the unoptimised file" >&2
  fi
}

build() {
  local name="$1" features="$2"
  echo "build: pkg/$name (features $features)"
  wasm-pack build --release --no-opt --target web \
    --out-dir "pkg/$name" --out-name deep_inside \
    -- --no-default-features --features "$features"
}

built=(cpu)
build cpu flex
if [ "${BUILD_WEBGPU:-1}" != 0 ]; then
  build webgpu flex,webgpu
  optimise pkg/webgpu/deep_inside_bg.wasm
  built+=(webgpu)
fi

for name in "${built[@]}"; do
  wasm="pkg/$name/deep_inside_bg.wasm"
  printf 'build: %s: %s bytes, %s gzipped\n' "$wasm" \
    "$(wc -c < "$wasm" | tr -d ' ')" "$(gzip -9c "$wasm" | wc -c | tr -d ' ')"
done
