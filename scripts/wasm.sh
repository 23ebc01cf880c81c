# shellcheck shell=bash
# Functions that make the page's wasm packages; source it after env.sh.
#   wasm_package <out-dir> <features>   cargo build of the lib for wasm32 (release), then the
#                                        wasm-bindgen CLI writes <out-dir>/deep_inside{.js,_bg.wasm,.d.ts}
#   wasm_optimise <file.wasm>            binaryen's wasm-opt -Oz (npm), cached by input hash
#   wasm_sizes <out-dir>...              raw and gzipped sizes

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

wasm_package() {
  local out="$1" features="$2" target="${CARGO_TARGET_DIR:-target}"
  echo "build: $out (features $features)"
  # wasm SIMD (+simd128) comes from .cargo/config.toml.
  cargo build --lib --release --target wasm32-unknown-unknown \
    --no-default-features --features "$features"
  rm -rf "$out"
  # The name section (function names for stack traces) is 0.35 MB raw, 78 kB gzipped of the
  # CPU build's first download; a panic is a bug either way, and its message survives.
  wasm-bindgen --target web --remove-name-section --out-dir "$out" --out-name deep_inside \
    "$target/wasm32-unknown-unknown/release/deep_inside.wasm"
}

# wasm-opt is slow on the WebGPU build (minutes, one core), so its output is cached by the hash
# of its input: an unchanged build is not optimised twice.
wasm_optimise() {
  local wasm="$1" tmp="$1.opt.tmp" key cached cache="${CARGO_TARGET_DIR:-target}/wasm-opt-cache"
  if [ ! -f "$WASM_OPT" ]; then
    echo "build: warning: $WASM_OPT missing (npm ci); $wasm left unoptimised" >&2
    return 0
  fi
  key=$( (sha256sum "$wasm"; sha256sum "$WASM_OPT"; echo "${WASM_OPT_FLAGS[*]}") | sha256sum | cut -c1-32)
  cached="$cache/$key.wasm"
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
    mkdir -p "$cache"
    cp -f "$wasm" "$cached"
  else
    rm -f "$tmp"
    echo "build: warning: wasm-opt failed on $wasm; keeping the unoptimised file" >&2
  fi
}

wasm_sizes() {
  local dir wasm
  for dir in "$@"; do
    wasm="$dir/deep_inside_bg.wasm"
    printf 'build: %s: %s bytes, %s gzipped\n' "$wasm" \
      "$(wc -c < "$wasm" | tr -d ' ')" "$(gzip -9c "$wasm" | wc -c | tr -d ' ')"
  done
}
