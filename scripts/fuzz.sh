#!/usr/bin/env bash
# Fuzzes the JSON-RPC dispatcher in process (tests/fuzz_rpc.rs, release build): generated and
# mutated requests of every method against an in-process sandbox. Prints one JSON line last:
#   {"fuzz_inputs":N,"fuzz_panics":P,"fuzz_seconds":S}
# and exits 1 when an input panicked or got a malformed reply (the test names the first one).
# Usage: scripts/fuzz.sh [--inputs N] [--seed S]   (default 1,000,000 inputs; CI runs 20,000
# through `cargo test`).
set -euo pipefail
cd "$(dirname "$0")/.."

inputs=1000000
seed=12648430
while [ $# -gt 0 ]; do
  case "$1" in
    --inputs) inputs="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "usage: scripts/fuzz.sh [--inputs N] [--seed S]" >&2; exit 2 ;;
  esac
done

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
status=0
FUZZ_INPUTS="$inputs" FUZZ_SEED="$seed" FUZZ_JSON_OUT="$summary" RUST_LOG=off \
  cargo test --locked --release --test fuzz_rpc -- --nocapture --test-threads 1 >&2 || status=$?
if [ ! -s "$summary" ]; then
  echo "{\"fuzz_inputs\":0,\"fuzz_panics\":0,\"fuzz_seconds\":0}"
  echo "fuzz.sh: the harness did not finish (exit $status)" >&2
  exit 1
fi
tail -n 1 "$summary"
exit "$status"
