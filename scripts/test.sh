#!/usr/bin/env bash
# The README's test command: every test, from a fresh Debian machine with a Rust toolchain.
#   setup           tools (scripts/setup.sh --browser)
#   fmt             cargo fmt --check
#   native build    every native target built once, linted by clippy on the way (-D warnings)
#   native tests    cargo test, with both CPU backends (flex and ndarray), and the doc examples
#   reader package  pkg/reader, the separate module that reads users' model files, linted
#   wasm build      the WebGPU build for wasm32, linted on the way: the page's pkg/webgpu and the
#                   browser tests' wasm share it, so it is compiled once
#   chromium tests  the wasm API in headless Chromium (WebGPU on SwiftShader)
#   firefox tests   the same wasm in headless Firefox ESR (WebGPU on Mesa's lavapipe)
#   webkit tests    the same wasm in WebKitGTK (WebKitWebDriver on a virtual display; no WebGPU
#                   there, so its WebGPU tests check the fallback to the CPU instead)
#   cpu package     pkg/cpu, linted on the way
#   e2e             the page end to end in Chromium (playwright-core)
#   e2e firefox     the page's part of that suite in Firefox ESR (WebDriver: geckodriver)
#   e2e webkit      the same in WebKitGTK (WebDriver: WebKitWebDriver, on a virtual display)
#
# Lints: `cargo clippy` checks a crate without building it, so its dependencies are compiled
# twice (once checked, once built). Here clippy-driver wraps rustc for this crate only
# (RUSTC_WORKSPACE_WRAPPER, as `cargo clippy` itself does), so the build that the tests need
# lints the crate as it compiles it: the same lints, with the dependencies compiled once.
#
# Each step prints its wall time, and the end prints them all. A step more than a third slower
# than its time recorded in scripts/test-times.tsv (from nothing, or with warm caches) gets a
# warning line; nothing fails for being slow.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# shellcheck source=scripts/wasm.sh
source scripts/wasm.sh

T0=$(date +%s)
# "cold": nothing built yet (an empty target dir); compared with the cold column, else the warm.
mode=warm
[ -n "$(ls -A "$CARGO_TARGET_DIR" 2>/dev/null)" ] || mode=cold
TIMES=scripts/test-times.tsv
names=()
seconds=()
current=""      # the step under way, and when it began: the summary names it if it fails
current_start=0

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

recorded() {  # recorded <step>: its recorded seconds in this mode, or nothing
  awk -F'\t' -v s="$1" -v col="$([ "$mode" = cold ] && echo 2 || echo 3)" \
    '$1 == s && $col ~ /^[0-9]+$/ { print $col }' "$TIMES" 2>/dev/null || true
}

summary() {
  local rc=$? i total=$(($(date +%s) - T0))
  printf '\n== step times (%s caches) ==\n' "$mode"
  for i in "${!names[@]}"; do
    printf '%-16s %8s\n' "${names[$i]}" "$(duration "${seconds[$i]}")"
  done
  if [ "$rc" -ne 0 ] && [ -n "$current" ]; then
    printf '%-16s %8s  (failed)\n' "$current" "$(duration $(($(date +%s) - current_start)))"
  fi
  printf '%-16s %8s\n' total "$(duration "$total")"
  [ "$rc" -eq 0 ] || printf 'test.sh: FAILED (exit %s)\n' "$rc"
}
trap summary EXIT

step() {  # step <name> <command...>
  local name="$1" start took was
  shift
  printf '\n== %s ==\n' "$name"
  start=$(date +%s)
  current="$name"
  current_start=$start
  "$@"
  current=""
  took=$(($(date +%s) - start))
  names+=("$name")
  seconds+=("$took")
  printf '== %s: %s ==\n' "$name" "$(duration "$took")"
  was=$(recorded "$name")
  if [ -n "$was" ] && [ "$took" -gt $((was + was / 3 + 5)) ]; then
    printf 'test.sh: warning: step "%s" took %s, more than a third over its recorded %s (%s, %s)\n' \
      "$name" "$(duration "$took")" "$(duration "$was")" "$mode" "$TIMES"
  fi
}

step setup bash scripts/setup.sh --browser
export CHROMEDRIVER=/usr/bin/chromedriver

clippy_driver="$(rustc --print sysroot)/bin/clippy-driver"
if [ ! -x "$clippy_driver" ]; then
  rustup component add clippy
fi
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

NATIVE=(--all-targets --features ndarray,train)
WASM=(--release --target wasm32-unknown-unknown --no-default-features --features flex,webgpu,web)

step fmt cargo fmt --check
step "native build" cargo test "${NATIVE[@]}" --no-run
native_tests() {
  cargo test "${NATIVE[@]}"
  # --all-targets leaves out the examples in doc comments.
  cargo test --doc --features ndarray,train
}
step "native tests" native_tests

# The reader of users' model files, which the browser tests and the page import from pkg/reader.
step "reader package" wasm_package pkg/reader flex,reader

# The browser tests' wasm: the WebGPU build of the lib, the very one pkg/webgpu is made of, and
# the test crate linked against it without LTO. Fat LTO of the test binary (codegen-units = 1,
# one core) took 3 min 35 s for nothing the tests check: the lib under test is compiled the same
# either way, and the e2e tests run the page's own LTO build. `cargo rustc` passes -C lto=off to
# the test crate only, so the dependencies stay shared with the packages. --release rather than
# a dev build: a debug test wasm with burn, cubecl and wgpu is about 870 MB of debug info.
web_tests=""
webgpu_build() {
  local json
  json=$(cargo rustc "${WASM[@]}" --test web --message-format=json-render-diagnostics -- -C lto=off)
  web_tests=$(sed -n 's/.*"executable":"\([^"]*\.wasm\)".*/\1/p' <<<"$json" | tail -n 1)
  [ -n "$web_tests" ] || { echo "test.sh: no test wasm in cargo's output" >&2; return 1; }
  # The lib's cdylib came with that build: this links the JS glue.
  wasm_package pkg/webgpu flex,webgpu,web
}
step "wasm build" webgpu_build

# wasm-bindgen-test-runner reads webdriver.json from the current directory (Chromium's flags and
# Firefox's WebGPU prefs); the timeout is the one .cargo/config.toml gives `cargo test`. The
# runner takes GECKODRIVER over CHROMEDRIVER, so each run names its driver alone.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
step "chromium tests" env -u GECKODRIVER wasm-bindgen-test-runner "$web_tests"
step "firefox tests" env -u CHROMEDRIVER GECKODRIVER="$(command -v geckodriver)" \
  wasm-bindgen-test-runner "$web_tests"
# The runner drives WebKitWebDriver as it would safaridriver (no capabilities: the default
# browser, MiniBrowser), on Xvfb since it runs with a window.
step "webkit tests" env -u CHROMEDRIVER -u GECKODRIVER SAFARIDRIVER=/usr/bin/WebKitWebDriver \
  xvfb-run -a wasm-bindgen-test-runner "$web_tests"

step "cpu package" wasm_package pkg/cpu flex,web
wasm_sizes pkg/cpu pkg/reader pkg/webgpu

step e2e node --test --test-concurrency=1 tests/e2e/
# The same suite through WebDriver in Firefox and WebKitGTK (scripts/webdriver.mjs), on the
# files of the page's own work: the fuzzing (engine-independent wasm, minutes) and the WebGPU
# fault injection (Chromium's request interception) stay Chromium's.
E2E_ENGINES=(tests/e2e/page.test.mjs tests/e2e/model.test.mjs tests/e2e/embed.test.mjs
  tests/e2e/uploads.test.mjs tests/e2e/user-model.test.mjs tests/e2e/a11y.test.mjs)
step "e2e firefox" env E2E_ENGINE=firefox node --test --test-concurrency=1 "${E2E_ENGINES[@]}"
step "e2e webkit" env E2E_ENGINE=webkit xvfb-run -a node --test --test-concurrency=1 "${E2E_ENGINES[@]}"
