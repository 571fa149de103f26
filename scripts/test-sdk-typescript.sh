#!/usr/bin/env bash
# Everything CI runs for the TypeScript SDK (a thin client of the engine inside credplane):
#   1. npm ci, tsc --strict (type check) and tsc (build) in sdk/typescript;
#   2. node --test over the compiled tests: runtime and Stack facade (on a fake engine and the
#      binary), and the conformance scenarios (tests/conformance/scenarios) against
#      `credplane serve --stdio --sandbox`;
#   3. the examples (examples/typescript): npm ci, tsc --strict, and their end-to-end test
#      against the sandbox.
# The provider binary is CREDPLANE_BIN, else $CARGO_TARGET_DIR/debug/credplane (built with
# cargo if missing). Needs Node 20.
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

step "sdk/typescript: npm ci, tsc --strict, build"
cd "$ROOT/sdk/typescript"
npm ci --no-audit --no-fund --silent
npx tsc --strict --noEmit -p .
rm -rf dist
npx tsc -p .

step "sdk/typescript: node --test (runtime, Stack facade, conformance)"
node --test dist/test/

step "examples/typescript: npm ci, tsc --strict, run both examples against the sandbox"
cd "$ROOT/examples/typescript"
npm ci --no-audit --no-fund --silent
rm -rf dist
npx tsc --strict -p .
node --test dist/test/

step "all TypeScript SDK checks passed"
