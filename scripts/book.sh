#!/usr/bin/env bash
# Builds the guide (docs/guide, mdBook) into one static folder, with what its live figures need:
#   scripts/book.sh [OUT]      OUT defaults to $CARGO_TARGET_DIR/book
# OUT holds the book, www/ (the <deep-inside-demo> element, its worker and styles), pkg/cpu and
# pkg/webgpu (the wasm packages, which scripts/serve.sh or scripts/test.sh build) and assets/
# (the models the wasm does not embed). Every URL in it is relative, so the folder works from any
# static host under any sub-path (`/deep-inside/`, say). mdBook empties OUT first, so OUT must be
# empty, missing, or a book this script built.
set -euo pipefail
out="${1:-}"
# Relative to where it was run, before env.sh moves to the repository root.
[ -z "$out" ] || [[ "$out" = /* ]] || out="$PWD/$out"
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
out="${out:-$CARGO_TARGET_DIR/book}"
MARK=.deep-inside-book

if ! command -v mdbook >/dev/null 2>&1; then
  echo "book: mdbook is missing: run scripts/setup.sh" >&2
  exit 1
fi
for p in pkg/cpu pkg/webgpu; do
  if [ ! -f "$p/deep_inside_bg.wasm" ]; then
    echo "book: $p is missing: build it first (scripts/serve.sh or scripts/test.sh)" >&2
    exit 1
  fi
done
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/$MARK" ]; then
  echo "book: $out is not empty and not a book built here; name an empty or new folder" >&2
  exit 1
fi

mdbook build docs/guide --dest-dir "$out"
mkdir -p "$out/www" "$out/pkg" "$out/assets"
cp www/deep-inside-demo.js www/deep-inside-demo.css www/worker.js www/support.js www/curves.js "$out/www/"
cp -r pkg/cpu pkg/webgpu "$out/pkg/"
find "$out/pkg" -name '*.d.ts' -delete
# The small MNIST net is embedded in the wasm; the others are fetched when a figure names them.
cp -r assets/mnist-deep assets/fashion "$out/assets/"
touch "$out/$MARK"
echo "book: $out ($(du -sh "$out" | cut -f1))"
