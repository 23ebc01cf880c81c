#!/usr/bin/env bash
# The threads experiment's builds (docs/experiments/threads/README.md), from the repository root
# after `git apply docs/experiments/threads/threads.patch`. Needs the nightly toolchain with
# rust-src (`rustup component add rust-src --toolchain nightly`). Its own target dir: the
# atomics build shares nothing with the shipped ones.
set -euo pipefail
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/threads-target}"
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/deep_inside.wasm"
# The shipped single-threaded package, built the same way for the comparison.
cargo build --lib --release --target wasm32-unknown-unknown --no-default-features --features flex,web
wasm-bindgen --target web --remove-name-section --out-dir pkg/cpu --out-name deep_inside "$wasm"
# With threads: std rebuilt with atomics, and a shared, imported memory (without the link
# arguments initThreadPool fails: "DataCloneError: #<Memory> could not be cloned").
RUSTFLAGS='-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128' \
  rustup run nightly cargo rustc --lib --release --target wasm32-unknown-unknown \
  --no-default-features --features flex,web,threads -Z build-std=panic_abort,std -- \
  -C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 -C link-arg=--import-memory \
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
  -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base
wasm-bindgen --target web --remove-name-section --out-dir pkg/cpu-threads --out-name deep_inside "$wasm"
