#!/usr/bin/env bash
# Everything CI runs for the TypeScript SDK's runtime and stack engine:
#   1. npm ci, tsc --strict (type check) and tsc (build) in sdk/typescript;
#   2. node --test over the compiled tests: runtime, stack engine, state/plan interop with the
#      Python runtime, and the conformance scenarios (tests/conformance/scenarios) against
#      `credplane serve --stdio --sandbox`;
#   3. the examples (examples/typescript): npm ci, tsc --strict, and their end-to-end test
#      against the sandbox.
# The provider binary is CREDPLANE_BIN, else $CARGO_TARGET_DIR/debug/credplane (built with
# cargo if missing). Needs Node 20 (and python3 with `cryptography` for the interop tests).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

step() { printf '\n==> %s\n' "$*"; }

if [[ -z "${CREDPLANE_BIN:-}" ]]; then
  CREDPLANE_BIN="$CARGO_TARGET_DIR/debug/credplane"
  if [[ ! -x "$CREDPLANE_BIN" ]]; then
    step "build the credplane binary"
    cargo build --quiet --bin credplane
  fi
fi
[[ -x "$CREDPLANE_BIN" ]] || { echo "the provider binary $CREDPLANE_BIN does not exist" >&2; exit 1; }
export CREDPLANE_BIN
export RUST_LOG="${RUST_LOG:-warn}"

# The interop tests run the Python SDK: give them a Python that has it.
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON="$ROOT/.venv-sdk-python/bin/python"
  if ! "$PYTHON" -c 'import credplane.runtime.state' 2>/dev/null; then
    step "python venv with the Python SDK (for the interop tests)"
    python3 -m venv "$ROOT/.venv-sdk-python"
    "$PYTHON" -m pip install --quiet -e "$ROOT/sdk/python"
  fi
fi
export PYTHON

step "sdk/typescript: npm ci, tsc --strict, build"
cd "$ROOT/sdk/typescript"
npm ci --no-audit --no-fund --silent
npx tsc --strict --noEmit -p .
rm -rf dist
npx tsc -p .

step "sdk/typescript: node --test (runtime, stack engine, interop, conformance)"
node --test dist/test/

step "examples/typescript: npm ci, tsc --strict, run both examples against the sandbox"
cd "$ROOT/examples/typescript"
npm ci --no-audit --no-fund --silent
rm -rf dist
npx tsc --strict -p .
node --test dist/test/

step "all TypeScript SDK checks passed"
