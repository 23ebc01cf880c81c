# shellcheck shell=bash
# Functions that make the page's wasm packages; source it after env.sh.
#   wasm_package <out-dir> <features>   cargo build of the lib for wasm32 (release), then the
#                                        wasm-bindgen CLI writes <out-dir>/deep_inside{.js,_bg.wasm,.d.ts}
#   wasm_sizes <out-dir>...              raw and gzipped sizes
# Neither package goes through wasm-opt: on both it shrinks the raw file but not the gzipped
# download, and on the WebGPU build it took 3.5 min (BENCHMARKS.md, "Builds and sizes").
# scripts/levers.sh still measures it, with the flags below.

WASM_OPT=node_modules/binaryen/bin/wasm-opt
# For scripts/levers.sh: the features rustc's wasm32-unknown-unknown output uses, plus SIMD.
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

wasm_package() {
  local out="$1" features="$2" target="${CARGO_TARGET_DIR:-target}"
  echo "build: $out (features $features)"
  # wasm SIMD (+simd128) comes from .cargo/config.toml.
  # Explicit returns: called in an `if`, a function runs without `set -e`, and a failed build
  # would otherwise package the last build's wasm (another package's) under this name.
  cargo build --lib --release --target wasm32-unknown-unknown \
    --no-default-features --features "$features" || return
  # Written beside it, then moved into place: a page being served never sees half a package.
  rm -rf "$out.tmp"
  # The name section (function names for stack traces) is 0.35 MB raw, 78 kB gzipped of the
  # CPU build's first download; a panic is a bug either way, and its message survives.
  wasm-bindgen --target web --remove-name-section --out-dir "$out.tmp" --out-name deep_inside \
    "$target/wasm32-unknown-unknown/release/deep_inside.wasm" || return
  rm -rf "$out"
  mv "$out.tmp" "$out"
}

wasm_sizes() {
  local dir wasm
  for dir in "$@"; do
    wasm="$dir/deep_inside_bg.wasm"
    printf 'build: %s: %s bytes, %s gzipped\n' "$wasm" \
      "$(wc -c < "$wasm" | tr -d ' ')" "$(gzip -9c "$wasm" | wc -c | tr -d ' ')"
  done
}
