#!/usr/bin/env bash
# Installs the tools the build needs, skipping whatever is already there.
#   scripts/setup.sh            wasm32 target, the wasm-bindgen CLI (of the version in Cargo.lock),
#                               mdBook (crates.io, pinned: scripts/book.sh builds the guide),
#                               node/npm, npm dev packages, Debian's dataset-fashion-mnist
#   scripts/setup.sh --page     only what building and serving the page needs (scripts/serve.sh):
#                               the wasm32 target, the wasm-bindgen CLI, node; nothing for tests
#   scripts/setup.sh --browser  the default's, plus the browsers and drivers of the browser tests:
#                               chromium and chromedriver; firefox-esr, geckodriver (crates.io,
#                               pinned) and Mesa's Vulkan drivers (Firefox's WebGPU runs on lavapipe);
#                               WebKitGTK's WebKitWebDriver, with xvfb and xauth for its display
# Sources: rustup, crates.io (cargo install), Debian apt, the npm registry. No prebuilt downloads.
# No wasm-pack: cargo builds the wasm, the wasm-bindgen CLI makes the JS glue, and its
# wasm-bindgen-test-runner runs the browser tests, so one tool compile serves all three.
# The Debian packages download while the CLI compiles (network against CPU).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

want_browser=0
page_only=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --page) page_only=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "setup: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

step() { echo "setup: $*"; }

# --- Debian packages -------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
apt_updated=0
apt_install() {
  [ "$#" -gt 0 ] || return 0
  if [ "$apt_updated" -eq 0 ]; then
    step "apt-get update"
    "${SUDO[@]}" apt-get update -qq
    apt_updated=1
  fi
  step "apt-get install $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# cargo install needs a C compiler and linker before anything else can build.
command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev

apt_pkgs=()
command -v node >/dev/null 2>&1 || apt_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_pkgs+=(npm)
# Fashion-MNIST (IDX files): the training binary reads it, and a test checks the shipped model's
# accuracy on its 10,000 test images.
[ "$page_only" -eq 1 ] || [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] ||
  apt_pkgs+=(dataset-fashion-mnist)
if [ "$want_browser" -eq 1 ]; then
  [ -x /usr/bin/chromium ] || apt_pkgs+=(chromium)
  [ -x /usr/bin/chromedriver ] || apt_pkgs+=(chromium-driver)
  [ -x /usr/bin/firefox-esr ] || apt_pkgs+=(firefox-esr)
  compgen -G '/usr/share/vulkan/icd.d/lvp_icd.*.json' >/dev/null || apt_pkgs+=(mesa-vulkan-drivers)
  [ -x /usr/bin/WebKitWebDriver ] || apt_pkgs+=(webkit2gtk-driver)
  command -v xvfb-run >/dev/null 2>&1 || apt_pkgs+=(xvfb)
  command -v xauth >/dev/null 2>&1 || apt_pkgs+=(xauth)
fi
apt_log="${TMPDIR:-/tmp}/deep-inside-apt.$$.log"
apt_pid=""
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  apt_install "${apt_pkgs[@]}" >"$apt_log" 2>&1 &
  apt_pid=$!
fi

# --- Rust ------------------------------------------------------------------
if command -v rustup >/dev/null 2>&1; then
  installed_targets="$(rustup target list --installed)"
  if ! grep -qx wasm32-unknown-unknown <<<"$installed_targets"; then
    step "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
else
  echo "setup: warning: rustup not found; assuming the wasm32-unknown-unknown target is installed" >&2
fi

bindgen_version="$(awk '
  $0 == "name = \"wasm-bindgen\"" { found = 1; next }
  found && /^version = / { gsub(/"/, "", $3); print $3; exit }
  /^\[\[package\]\]/ { found = 0 }
' Cargo.lock)"
if [ -z "$bindgen_version" ]; then
  echo "setup: error: no wasm-bindgen package in Cargo.lock" >&2
  exit 1
fi
have_bindgen=""
if command -v wasm-bindgen >/dev/null 2>&1 && command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  have_bindgen="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || have_bindgen=""
fi
if [ "$have_bindgen" != "$bindgen_version" ]; then
  step "cargo install wasm-bindgen-cli --version $bindgen_version${have_bindgen:+ (replacing $have_bindgen)}"
  # Its own target dir, not ours; not --locked: the CLI's lock file does not build with --locked.
  env -u CARGO_TARGET_DIR -u RUSTFLAGS -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
    cargo install -q wasm-bindgen-cli --version "$bindgen_version" --force
fi

# geckodriver drives Firefox for the browser tests; pinned, like the wasm-bindgen CLI.
GECKODRIVER_VERSION=0.36.0
if [ "$want_browser" -eq 1 ]; then
  have_gecko="$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}')" || have_gecko=""
  if [ "$have_gecko" != "$GECKODRIVER_VERSION" ]; then
    step "cargo install geckodriver --version $GECKODRIVER_VERSION${have_gecko:+ (replacing $have_gecko)}"
    env -u CARGO_TARGET_DIR -u RUSTFLAGS -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
      cargo install -q geckodriver --version "$GECKODRIVER_VERSION" --force
  fi
fi

# mdBook builds the guide (scripts/book.sh); pinned, like the wasm-bindgen CLI. Without its
# default serve and watch features: it only builds here, and they add a web server to compile.
MDBOOK_VERSION=0.5.4
have_mdbook="$(mdbook --version 2>/dev/null | awk '{print $2}')" || have_mdbook=""
if [ "$page_only" -eq 0 ] && [ "$have_mdbook" != "v$MDBOOK_VERSION" ]; then
  step "cargo install mdbook --version $MDBOOK_VERSION${have_mdbook:+ (replacing $have_mdbook)}"
  env -u CARGO_TARGET_DIR -u RUSTFLAGS -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
    cargo install -q --locked mdbook --version "$MDBOOK_VERSION" --no-default-features --features search --force
fi

if [ -n "$apt_pid" ]; then
  if ! wait "$apt_pid"; then
    cat "$apt_log" >&2
    echo "setup: error: apt-get failed" >&2
    exit 1
  fi
  cat "$apt_log"
fi
rm -f "$apt_log"

# --- npm dev packages (tests and benchmarks; the page and its server need none) ----
[ "$page_only" -eq 0 ] || exit 0
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
