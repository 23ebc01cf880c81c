#!/usr/bin/env bash
# The README's test command: every test, from a fresh Debian machine with a Rust toolchain.
#   1. format and lints (cargo fmt, clippy -D warnings, native and wasm32)
#   2. native tests (cargo test, with both CPU backends: flex and ndarray)
#   3. browser tests of the wasm API (wasm-pack test in headless Chromium, WebGPU enabled)
#   4. the two wasm packages the page loads, then end-to-end tests of the page (playwright-core)
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

bash scripts/setup.sh --browser
export CHROMEDRIVER=/usr/bin/chromedriver

step() { printf '\n== %s ==\n' "$*"; }

step "format and lints"
cargo fmt --check
cargo clippy --all-targets --features ndarray,train -- -D warnings
cargo clippy --lib --tests --target wasm32-unknown-unknown --no-default-features --features flex,webgpu -- -D warnings

step "native tests"
cargo test --features ndarray

step "browser tests of the wasm API (headless Chromium, WebGPU via SwiftShader)"
# wasm-bindgen-test-runner reads webdriver.json from the current directory. --release: a debug
# test wasm with burn, cubecl and wgpu is about 870 MB of debug info, and the runner needed
# 11 GB of memory to serve it (once killed by the OOM killer); the release one is small.
wasm-pack test --release --headless --chrome --chromedriver /usr/bin/chromedriver -- \
  --no-default-features --features flex,webgpu

step "end-to-end tests of the page"
bash scripts/build.sh
node --test --test-concurrency=1 tests/e2e/
