#!/usr/bin/env bash
# The main job: build credplane and run the Python quickstart against the built-in sandbox clouds
# (no cloud account needed). See examples/python/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
export CREDPLANE_BIN="$PWD/target/debug/credplane"
export CREDPLANE_PASSPHRASE="${CREDPLANE_PASSPHRASE:-quickstart-only-passphrase}"
venv=.venv-quickstart
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
"$venv/bin/pip" install --quiet -e sdk/python
exec "$venv/bin/python" examples/python/quickstart.py "$@"
