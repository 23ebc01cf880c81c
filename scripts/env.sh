# shellcheck shell=bash
# Shared environment for scripts/*.sh; source it, don't run it.
# - cds to the repository root (so every script works from any cwd),
# - puts cargo's bin directory on PATH (wasm-pack, wasm-bindgen),
# - gives cargo a target dir that survives between clean clones on this machine.

DEEP_INSIDE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEEP_INSIDE_ROOT
cd "$DEEP_INSIDE_ROOT"

_cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in
  *":$_cargo_bin:"*) ;;
  *) export PATH="$_cargo_bin:$PATH" ;;
esac
unset _cargo_bin

if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$HOME/.cache/deep-inside/target"
fi
mkdir -p "$CARGO_TARGET_DIR"
