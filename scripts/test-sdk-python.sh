#!/usr/bin/env bash
# Everything CI runs for the Python SDK: a private venv, mypy --strict, pytest.
#   CREDPLANE_CONFORMANCE_SANDBOX=1  also run the conformance scenarios against
#                                    `credplane serve --stdio --sandbox` (CREDPLANE_BIN or
#                                    target/debug/credplane or credplane on PATH) instead of the fake.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CREDPLANE_SDK_VENV:-$ROOT/.venv-sdk-python}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
echo "== pip install -e sdk/python[test] (into $VENV)"
if ! "$VENV/bin/python" -m pip install --quiet -e "$ROOT/sdk/python[test]" >"$VENV/pip-install.log" 2>&1; then
  cat "$VENV/pip-install.log" >&2
  exit 1
fi

cd "$ROOT/sdk/python"
echo "== mypy --strict"
"$VENV/bin/python" -m mypy --strict credplane "$ROOT/examples/python"
# Every test runs against the real provider and its engine (credplane serve --stdio --sandbox).
BIN="${CREDPLANE_BIN:-$ROOT/target/debug/credplane}"
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --quiet --bin credplane)
echo "== pytest (credplane serve --stdio --sandbox: engine, conformance scenarios, examples)"
CREDPLANE_BIN="$BIN" "$VENV/bin/python" -m pytest -q tests "$@"
