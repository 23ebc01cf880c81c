#!/usr/bin/env bash
# Issue 7's levers on the CPU build, each measured the same way: `bash scripts/levers.sh [--write]`.
# Builds variants of pkg/cpu into pkg-levers/<variant>/ and times each in headless Chromium
# (www/bench.html?pkg=…, CPU only), then prints sizes and medians (scripts/levers.mjs).
#   shipped       what scripts/build.sh ships: +simd128, lto, codegen-units 1, opt-level 3, no wasm-opt
#   wasm-opt-Oz   the same build through binaryen's wasm-opt -Oz
#   wasm-opt-O3   the same build through wasm-opt -O3
#   no-simd       without +simd128 (own target dir: every dependency rebuilt)
#   opt-level-z   opt-level "z" (own target dir)
#   opt-level-s   opt-level "s" (own target dir)
# The variants with their own target dir take minutes each the first time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source scripts/wasm.sh
bash scripts/setup.sh

OUT=pkg-levers
mkdir -p "$OUT"

pack() {  # pack <variant> [env...]: a CPU build without wasm-opt into $OUT/<variant>
  local variant="$1"; shift
  echo "levers: building $variant"
  (for kv in "$@"; do export "${kv?}"; done; wasm_package "$OUT/$variant" flex,web)
}

opt() {  # opt <from> <to> <level>
  rm -rf "${OUT:?}/$2"
  cp -r "$OUT/$1" "$OUT/$2"
  echo "levers: wasm-opt $3 → $2"
  node "$WASM_OPT" "$3" "${WASM_OPT_FLAGS[@]:1}" "$OUT/$1/deep_inside_bg.wasm" -o "$OUT/$2/deep_inside_bg.wasm"
}

pack shipped
opt shipped wasm-opt-Oz -Oz
opt shipped wasm-opt-O3 -O3
LEVERS_TARGET="${CARGO_TARGET_DIR:-target}-levers"
# A non-empty RUSTFLAGS replaces .cargo/config.toml's +simd128.
pack no-simd RUSTFLAGS="--cfg deep_inside_levers" CARGO_TARGET_DIR="$LEVERS_TARGET/no-simd"
pack opt-level-z CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_TARGET_DIR="$LEVERS_TARGET/opt-z"
pack opt-level-s CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_TARGET_DIR="$LEVERS_TARGET/opt-s"

node scripts/levers.mjs "$@"
