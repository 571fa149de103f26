#!/usr/bin/env bash
# The one benchmark command: every speed and memory figure of credplane beside its baseline,
# measured in the same run, with its target. Prints one table and writes target/bench/results.json
# (and target/bench/table.md).
#
#   scripts/bench.sh           the full run (1,000 to 10,000 resources, 1,000,000 fuzz inputs; ~20 min)
#   scripts/bench.sh --quick   a reduced run for CI (small N; under 3 minutes once built)
#
# Exits non-zero only when a run breaks, never because a figure misses its target: numbers on a
# shared, noisy machine are for people to read, not for CI to gate on.
#
# What runs where:
# - benches/credplane_bench/ (a Rust bench target, `credplane-bench`): cold start, idle RSS,
#   HTTP throughput of check and diff against benches/credplane_bench/bare_server.rs (a bare jsonrpsee
#   server of the same jsonrpsee version answering a fixed reply), and the stdio side of the moto
#   comparison.
# - The load generator is the Rust client in benches/credplane_bench/load.rs, not an external tool
#   such as oha or hey: it adds no install or compile to CI (reqwest is already in the tree), and it
#   sends byte-identical requests over the same number of keep-alive connections to both servers.
#   The two servers are measured in alternation (A B A B) and the medians reported.
# - benches/run.py (in a venv under target/bench/venv with moto[server], boto3 and the Python SDK):
#   the boto3 baseline, the SDK figures (benches/sdk_bench.py, through the automation API),
#   scripts/chaos.sh and scripts/fuzz.sh (reported "missing" when absent), the table and the JSON.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $arg (use --quick or nothing)" >&2; exit 2 ;;
  esac
done

mkdir -p target/bench
venv=target/bench/venv
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c 'import boto3, credplane' 2>/dev/null; then
  echo "bench: installing moto[server], boto3 and the Python SDK into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "moto[server]" boto3 -e sdk/python
fi

echo "bench: building the release binary and the bench target" >&2
cargo build --release --locked --bin credplane
bench_bin=$(cargo bench --locked --bench credplane-bench --no-run --message-format=json |
  "$venv/bin/python" -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "credplane-bench" and m.get("executable"):
        print(m["executable"])')
[ -x "$bench_bin" ] || { echo "bench: could not build the credplane-bench target" >&2; exit 1; }

exec "$venv/bin/python" benches/run.py --credplane "$PWD/target/release/credplane" --bench-bin "$bench_bin" \
  --moto-server "$PWD/$venv/bin/moto_server" "${quick[@]}"
