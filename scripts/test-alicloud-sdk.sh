#!/usr/bin/env bash
# The official Alibaba Cloud Python SDKs (RAM, KMS) against the credplane sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-alicloud
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/python/alicloud/requirements.txt

target="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --bin credplane
bin="$target/debug/credplane"

port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The sandbox admin API (/_sandbox/*) needs this token; the tests read it from the environment.
export CREDPLANE_SANDBOX_TOKEN="${CREDPLANE_SANDBOX_TOKEN:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
log=$(mktemp)
"$bin" sandbox --listen "127.0.0.1:$port" >"$log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -f "$log"' EXIT

export CREDPLANE_SANDBOX_URL="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('$CREDPLANE_SANDBOX_URL/_sandbox/fixtures', headers={'Authorization': 'Bearer $CREDPLANE_SANDBOX_TOKEN'}))" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    echo "the sandbox exited:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.1
done

"$venv/bin/python" -m pytest -q tests/python/alicloud "$@"
