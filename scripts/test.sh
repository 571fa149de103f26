#!/usr/bin/env bash
# Every test of the project: the Rust workspace (unit, vectors, end-to-end against the sandbox and
# moto), then each language and cloud-SDK suite (scripts/test-*.sh). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# moto, for the AWS end-to-end tests against a second, independent IAM implementation.
venv=.venv-ci
# A venv whose python is gone (a half-removed one) is rebuilt, not trusted for its moto_server.
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c 'import moto' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "moto[server]"
fi
export MOTO_SERVER="$PWD/$venv/bin/moto_server"

cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo build --locked --workspace
# Without the `sandbox` feature the binary builds, and has no axum and no verifier code in it.
cargo check --locked --no-default-features --bin credplane
if cargo tree --locked --no-default-features -e normal -p credplane | grep -qE '^[^a-z]*(axum|credplane-sandbox) '; then
  echo "a build without the sandbox feature still depends on axum or credplane-sandbox" >&2
  exit 1
fi
cargo test --locked --workspace

# A 200-create slice of the chaos harness: 0 orphans and 0 foreign deletions, or it fails.
CREDPLANE_BIN="$PWD/target/debug/credplane" python3 scripts/chaos.py --creates 200 --clients 4

for suite in scripts/test-*.sh; do
  echo "== $suite"
  bash "$suite"
done

# Every benchmark at small N: fails when a run breaks, never on a number (numbers are for people).
echo "== scripts/bench.sh --quick"
bash scripts/bench.sh --quick
