#!/usr/bin/env bash
# Runs the official OCI Python SDK (tests/python/oci) against a freshly started credplane sandbox.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv-oci"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/python/oci/requirements.txt

cargo build --quiet --bin credplane
BIN="$TARGET/debug/credplane"

PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
# The sandbox admin API (/_sandbox/*) needs this token; the tests read it from the environment.
export CREDPLANE_SANDBOX_TOKEN="${CREDPLANE_SANDBOX_TOKEN:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
LOG="$(mktemp)"
"$BIN" sandbox --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
SANDBOX_PID=$!
cleanup() {
  kill "$SANDBOX_PID" 2>/dev/null || true
  wait "$SANDBOX_PID" 2>/dev/null || true
  rm -f "$LOG"
}
trap cleanup EXIT

export CREDPLANE_SANDBOX_URL="http://127.0.0.1:$PORT"
# The pytest session waits for the sandbox to answer (and fails if it never does).
"$VENV/bin/python" -m pytest -q tests/python/oci "$@" || { echo "--- sandbox log ---"; cat "$LOG"; exit 1; }
