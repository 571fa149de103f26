#!/usr/bin/env bash
# Every test of the project: the Rust workspace (unit, vectors, end-to-end against the sandbox and
# moto), then each language and cloud-SDK suite (scripts/test-*.sh). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# moto, for the AWS end-to-end tests against a second, independent IAM implementation.
venv=.venv-ci
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "moto[server]"
fi
export MOTO_SERVER="$PWD/$venv/bin/moto_server"

cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo build --locked --workspace
cargo test --locked --workspace

for suite in scripts/test-*.sh; do
  echo "== $suite"
  bash "$suite"
done
