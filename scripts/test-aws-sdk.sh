#!/usr/bin/env bash
# AWS SDK tests: boto3 against `credplane sandbox`, then the provider against moto.
#
# 1. Creates a venv in .venv-aws/ and installs tests/python/aws/requirements.txt (boto3, pytest)
#    plus moto's server: `pip install "moto[server]"` (the moto_server executable lands in
#    .venv-aws/bin/moto_server).
# 2. Builds credplane, starts `target/debug/credplane sandbox` on a free loopback port, and runs
#    pytest on tests/python/aws (the sandbox is killed on exit).
# 3. Runs `MOTO_SERVER=.venv-aws/bin/moto_server cargo test --test aws_moto_e2e`.
#
# Needs python3 with venv and pip access to PyPI. Fails (never skips) when something is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv-aws"
target="${CARGO_TARGET_DIR:-$root/target}"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -r tests/python/aws/requirements.txt "moto[server]"
test -x "$venv/bin/moto_server" || { echo "moto_server missing from $venv/bin after pip install" >&2; exit 1; }

cargo build --quiet --bin credplane
bin="$target/debug/credplane"
test -x "$bin" || { echo "credplane binary not found at $bin" >&2; exit 1; }

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
# The sandbox admin API (/_sandbox/*) needs this token; the tests read it from the environment.
export CREDPLANE_SANDBOX_TOKEN="${CREDPLANE_SANDBOX_TOKEN:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"
log="$(mktemp)"
"$bin" sandbox --listen "127.0.0.1:$port" >"$log" 2>&1 &
sandbox_pid=$!
cleanup() {
  kill "$sandbox_pid" 2>/dev/null || true
  wait "$sandbox_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS -H "Authorization: Bearer $CREDPLANE_SANDBOX_TOKEN" "http://127.0.0.1:$port/_sandbox/fixtures" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then echo "credplane sandbox exited:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.1
done
curl -fsS -H "Authorization: Bearer $CREDPLANE_SANDBOX_TOKEN" "http://127.0.0.1:$port/_sandbox/fixtures" >/dev/null || { echo "credplane sandbox did not start:" >&2; cat "$log" >&2; exit 1; }

CREDPLANE_SANDBOX_URL="http://127.0.0.1:$port" "$venv/bin/python" -m pytest -q tests/python/aws

MOTO_SERVER="$venv/bin/moto_server" cargo test --test aws_moto_e2e
