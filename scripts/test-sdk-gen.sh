#!/usr/bin/env bash
# Everything CI runs for the SDK generator and the generated SDKs:
#   1. sdk-gen's own tests: golden cases (one per folder), model unit tests, freshness of the
#      committed sdk/ and docs/ against schema/, docs coverage of the seeds' names;
#   2. `sdk-gen --check` (stale, missing or extra generated files);
#   3. compile checks: mypy --strict (Python), tsc --strict (TypeScript), gofmt + go vet (Go),
#      over the real SDKs and over every golden case's expected output;
#   4. the examples in docs/resources compile (the Python ones also run);
#   5. runtime tests: Python unittest of the generated code, `node --test`, `go test`, the
#      latter two calling the built credplane binary over stdio.
# Needs Rust, Python 3.11, Node 20 and Go. Creates .ci/.venv (gitignored) for mypy.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3.11}"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

step() { printf '\n==> %s\n' "$*"; }

step "build the credplane binary"
cargo build --quiet --bin credplane
export CREDPLANE_BIN="$CARGO_TARGET_DIR/debug/credplane"

step "sdk-gen tests (golden, model, freshness, seed coverage)"
cargo test --quiet -p sdk-gen

step "sdk-gen --check"
cargo run --quiet -p sdk-gen -- --schema schema --out . --check

step "python venv (.ci/.venv)"
if [[ ! -x .ci/.venv/bin/python ]]; then
  "$PYTHON" -m venv .ci/.venv
fi
.ci/.venv/bin/pip install --quiet --disable-pip-version-check -r sdk-gen/tests/python/requirements.txt
# The real runtime (once merged) brings its own dependencies in sdk/python/pyproject.toml.
if [[ -f sdk/python/pyproject.toml ]]; then
  mapfile -t runtime_deps < <(.ci/.venv/bin/python -c \
    'import tomllib
for dep in tomllib.load(open("sdk/python/pyproject.toml", "rb"))["project"].get("dependencies", []):
    print(dep)')
  if (( ${#runtime_deps[@]} )); then
    .ci/.venv/bin/pip install --quiet --disable-pip-version-check "${runtime_deps[@]}"
  fi
fi

# A scratch copy of a generated Python tree, with the runtime placeholder added only where
# the real runtime (sdk/python/credplane/runtime) is absent.
python_tree() {
  local src="$1" dest="$2"
  mkdir -p "$dest"
  cp -r "$src/." "$dest/"
  if [[ -d sdk/python/credplane/runtime ]]; then
    # The runtime only: the generated resources under test are the ones in $src.
    mkdir -p "$dest/credplane"
    cp -r sdk/python/credplane/runtime "$dest/credplane/"
    # The error classes the runtime imports: generated from the OpenRPC document, not the case.
    cp -r sdk/python/credplane/_codes "$dest/credplane/"
    cp -n sdk/python/credplane/__init__.py sdk/python/credplane/py.typed "$dest/credplane/" 2>/dev/null || true
  else
    cp -rn sdk-gen/tests/python/placeholder/. "$dest/"
  fi
}

step "python: mypy --strict and unittest over sdk/python"
python_tree sdk/python "$SCRATCH/py"
cp sdk-gen/tests/python/test_generated.py "$SCRATCH/py/"
(cd "$SCRATCH/py" && "$ROOT/.ci/.venv/bin/mypy" --strict --no-incremental credplane test_generated.py \
  && "$ROOT/.ci/.venv/bin/python" -m unittest -q test_generated)

step "typescript: npm ci, tsc --strict, node --test"
(cd sdk/typescript && npm ci --no-audit --no-fund --silent \
  && npx tsc --strict --noEmit -p . \
  && rm -rf dist && npx tsc -p . \
  && node --test dist/test/)

step "go: gofmt, go vet, go test"
(cd sdk/go && unformatted="$(gofmt -l .)" && { [[ -z "$unformatted" ]] || { echo "gofmt: $unformatted"; exit 1; }; } \
  && go vet ./... && go test -count=1 ./...)

step "golden outputs compile"
for case_dir in sdk-gen/tests/golden/*/; do
  case="$(basename "$case_dir")"
  exp="$case_dir/expected/sdk"
  echo "--- $case"
  python_tree "$exp/python" "$SCRATCH/golden-$case/py"
  (cd "$SCRATCH/golden-$case/py" && "$ROOT/.ci/.venv/bin/mypy" --strict --no-incremental credplane)

  ts="$SCRATCH/golden-$case/ts"
  mkdir -p "$ts/src"
  cp sdk/typescript/tsconfig.json "$ts/"
  cp -r sdk/typescript/src/runtime sdk/typescript/src/codes "$ts/src/"
  cp -r "$exp/typescript/src/resources" "$ts/src/"
  ln -s "$ROOT/sdk/typescript/node_modules" "$ts/node_modules"
  (cd "$ts" && "$ROOT/sdk/typescript/node_modules/.bin/tsc" --strict --noEmit -p .)

  gomod="$SCRATCH/golden-$case/go"
  mkdir -p "$gomod"
  cp sdk/go/go.mod sdk/go/go.sum "$gomod/"
  cp -r sdk/go/runtime "$gomod/"
  rm -f "$gomod"/runtime/*_test.go
  cp -r "$exp/go/resources" "$gomod/"
  (cd "$gomod" && test -z "$(gofmt -l .)" && go vet ./...)
done

step "docs examples compile (and the Python ones run)"
ex="$SCRATCH/examples"
python3 sdk-gen/tests/extract_examples.py docs/resources "$ex"
python_tree sdk/python "$ex/py"
cp "$ex"/python/*.py "$ex/py/"
(cd "$ex/py" && "$ROOT/.ci/.venv/bin/mypy" --strict --no-incremental credplane example_*.py \
  && for f in example_*.py; do "$ROOT/.ci/.venv/bin/python" "$f" || exit 1; done)

mkdir -p "$ex/ts"
cp -r sdk/typescript/src "$ex/ts/"
cp -r "$ex/typescript" "$ex/ts/examples"
cp sdk/typescript/tsconfig.json "$ex/ts/base.json"
ln -s "$ROOT/sdk/typescript/node_modules" "$ex/ts/node_modules"
# The examples import "@credplane/sdk": map it to the sources; an example's `const example`
# is deliberately unused.
cat > "$ex/ts/tsconfig.json" <<'JSON'
{
  "extends": "./base.json",
  "compilerOptions": { "baseUrl": ".", "paths": { "@credplane/sdk": ["./src/index.ts"] }, "noUnusedLocals": false },
  "include": ["src/**/*.ts", "examples/**/*.ts"]
}
JSON
(cd "$ex/ts" && "$ROOT/sdk/typescript/node_modules/.bin/tsc" --strict --noEmit -p .)

mkdir -p "$ex/gomod"
cp sdk/go/go.mod sdk/go/go.sum "$ex/gomod/"
cp -r sdk/go/runtime sdk/go/resources "$ex/gomod/"
cp -r "$ex/go" "$ex/gomod/examples"
(cd "$ex/gomod" && go vet ./...)

step "all SDK checks passed"
