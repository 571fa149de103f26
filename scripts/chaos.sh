#!/usr/bin/env bash
# Chaos harness (issue 10): `scripts/chaos.sh [--creates N] [--clients C]` (defaults 1000, 4).
# Builds credplane, then runs scripts/chaos.py against `credplane sandbox` with 20 % throttling,
# 5 % 5xx and 5 % lost replies. Last stdout line: one JSON object with the counts; exit 1 when
# orphans or foreign deletions are not 0. CREDPLANE_BIN overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CREDPLANE_BIN:-}" ]; then
  cargo build --quiet --bin credplane >&2
  export CREDPLANE_BIN="$PWD/target/debug/credplane"
fi
exec python3 scripts/chaos.py "$@"
