#!/usr/bin/env bash
# Everything CI runs for the Go SDK (a thin client of the engine inside credplane): gofmt, go
# vet, go test (runtime and Stack facade on a fake engine, the
# conformance scenarios against `credplane serve --stdio --sandbox`), and the Go examples
# end to end. The provider binary is CREDPLANE_BIN, else target/debug/credplane (built here
# when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${CREDPLANE_BIN:-$ROOT/target/debug/credplane}"
if [ ! -x "$BIN" ]; then
  echo "== cargo build --bin credplane"
  (cd "$ROOT" && cargo build --quiet --bin credplane)
fi
export CREDPLANE_BIN="$BIN"

for dir in sdk/go examples/go; do
  cd "$ROOT/$dir"
  echo "== $dir: gofmt -l"
  unformatted="$(gofmt -l .)"
  if [ -n "$unformatted" ]; then
    echo "not gofmt-formatted:" >&2
    echo "$unformatted" >&2
    exit 1
  fi
  echo "== $dir: go vet ./..."
  go vet ./...
  echo "== $dir: go test ./..."
  go test -count=1 ./... "$@"
done
