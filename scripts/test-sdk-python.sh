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
echo "== pytest (fake provider: runtime, stack, state, conformance runner)"
"$VENV/bin/python" -m pytest -q tests "$@"
# The conformance scenarios and the examples once more, against the real provider and its
# sandbox clouds. (The runner's self-tests only make sense against the fake, so they are left out.)
if [ "${CREDPLANE_CONFORMANCE_SANDBOX:-}" != "1" ]; then
  echo "== pytest (credplane serve --stdio --sandbox: conformance scenarios, examples, real binary)"
  BIN="${CREDPLANE_BIN:-$ROOT/target/debug/credplane}"
  [ -x "$BIN" ] || (cd "$ROOT" && cargo build --quiet --bin credplane)
  CREDPLANE_CONFORMANCE_SANDBOX=1 CREDPLANE_BIN="$BIN" "$VENV/bin/python" -m pytest -q \
    tests/test_conformance.py tests/test_examples.py tests/test_real_binary.py -k "not runner_detects_wrong_expectations"
fi
