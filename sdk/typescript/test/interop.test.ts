/**
 * Cross-language checks against the Python runtime (sdk/python): the same state file format
 * (each reads the other's encrypted state) and the same printed plan text. Needs python3 with
 * the `cryptography` package (the Python SDK's dependency).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import {
  Plan,
  PropertyChange,
  ResourceState,
  Secret,
  StackState,
  StateFile,
  Step,
  reveal,
  unwrap,
  wrap,
} from "../src";

const REPO = path.resolve(__dirname, "..", "..", "..", "..");
const PYTHON = process.env["PYTHON"] || "python3";

function python(code: string, input: string): string {
  const r = spawnSync(PYTHON, ["-c", code], {
    input,
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(REPO, "sdk", "python") },
  });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return r.stdout;
}

const havePython =
  spawnSync(PYTHON, ["-c", "import credplane.runtime.state"], { env: { ...process.env, PYTHONPATH: path.join(REPO, "sdk", "python") } }).status === 0;
// Fail, never skip: scripts/test-sdk-typescript.sh points PYTHON at a venv with the Python SDK.
assert.ok(havePython, `${PYTHON} cannot import the Python runtime (set PYTHON to a venv with sdk/python installed)`);

const PASS = "interop-passphrase-ü";

const PY_DUMP = `
import json, sys
from credplane.runtime.state import StateFile
from credplane.runtime.secret import wrap
st = StateFile(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.readline().strip(), ${JSON.stringify(PASS)}).load("x")
def res(r): return {"type": r.type, "name": r.name, "id": r.id, "inputs": wrap(r.inputs), "outputs": wrap(r.outputs), "dependencies": r.dependencies, "partial": r.partial}
print(json.dumps({"stack": st.stack, "resources": [res(r) for r in st.resources], "pending": [{"name": p.name, "inputs": wrap(p.inputs)} for p in st.pending], "pendingDeletes": [res(r) for r in st.pending_deletes]}))
`;

const PY_WRITE = `
import json, sys
from credplane.runtime.state import StateFile, StackState, ResourceState, PendingOperation
from credplane.runtime.secret import unwrap
doc = json.loads(sys.stdin.read())
st = StackState(doc["stack"], [ResourceState(r["type"], r["name"], r["id"], unwrap(r["inputs"]), unwrap(r["outputs"]), r["dependencies"], r["partial"]) for r in doc["resources"]],
                [PendingOperation("create", p["type"], p["name"], unwrap(p["inputs"]), []) for p in doc["pending"]], [])
StateFile(doc["path"], ${JSON.stringify(PASS)}, scrypt_n=2**12).save(st)
`;

function sample(): StackState {
  return new StackState(
    "interop",
    [
      new ResourceState("alicloud_ram_access_key", "ram", "LTAI1", { user_name: "alice" }, { id: "LTAI1", secret: new Secret("s3cr3t-ñ"), status: "Active" }),
      new ResourceState(
        "alicloud_kms_secret",
        "kms",
        "db/ü",
        { secret_name: "db/ü", secret_data: new Secret({ nested: [1, "x"] }), tags: { a: "b" } },
        { secret_data: new Secret({ nested: [1, "x"] }), version_id: "v1" },
        ["ram"],
        true,
      ),
    ],
    [],
  );
}

function dump(st: StackState): unknown {
  const res = (r: ResourceState) => ({
    type: r.type,
    name: r.name,
    id: r.id,
    inputs: wrap(r.inputs),
    outputs: wrap(r.outputs),
    dependencies: r.dependencies,
    partial: r.partial,
  });
  return {
    stack: st.stack,
    resources: st.resources.map(res),
    pending: st.pending.map((p) => ({ name: p.name, inputs: wrap(p.inputs) })),
    pendingDeletes: st.pendingDeletes.map(res),
  };
}

test("Python reads a state written by TypeScript (mode 0600, no plaintext secret on disk)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "credplane-interop-"));
  try {
    const file = path.join(dir, "state.json");
    const st = sample();
    new StateFile(file, PASS, { scryptN: 2 ** 12 }).save(st);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const text = fs.readFileSync(file, "utf8");
    assert.ok(!text.includes("s3cr3t") && !text.includes("nested"), "plaintext secret on disk");
    const got = JSON.parse(python(PY_DUMP, file + "\n")) as unknown;
    assert.deepEqual(got, dump(st));
    // TypeScript reads its own file back, too; a wrong passphrase is refused.
    assert.deepEqual(dump(new StateFile(file, PASS).load("x")), dump(st));
    assert.throws(() => new StateFile(file, "wrong").load("x"), /wrong CREDPLANE_PASSPHRASE/);
    assert.throws(() => new StateFile(file, "").load("x"), /set CREDPLANE_PASSPHRASE/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("TypeScript reads a state written by Python", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "credplane-interop-"));
  try {
    const file = path.join(dir, "state.json");
    const doc = dump(sample()) as Record<string, unknown>;
    (doc["pending"] as unknown[]).push({ type: "alicloud_kms_secret", name: "half", inputs: { secret_name: "x", secret_data: { $credplane: "secret", value: "p" } } });
    python(PY_WRITE, JSON.stringify({ ...doc, path: file }));
    const st = new StateFile(file, PASS).load("x");
    const want = { ...doc, pending: [{ name: "half", inputs: { secret_name: "x", secret_data: { $credplane: "secret", value: "p" } } }] };
    assert.deepEqual(dump(st), want);
    assert.ok(st.resources[0]!.outputs["secret"] instanceof Secret);
    assert.equal(reveal(st.resources[0]!.outputs["secret"]), "s3cr3t-ñ");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A plan described in JSON (values as wire JSON), built and rendered by both runtimes. */
const PLAN_SPEC = {
  stack: "demo",
  action: "preview",
  warnings: ["interrupted creates pending for x"],
  steps: [
    { op: "create", type: "alicloud_ram_access_key", name: "ram", id: null, changes: [["status", "add", null, "Active", false], ["user_name", "add", null, "alice", false]] },
    {
      op: "create",
      type: "alicloud_kms_secret",
      name: "kms",
      id: null,
      changes: [
        ["secret_data", "add", null, { $credplane: "unknown" }, false],
        ["tags", "add", null, { z: 1, a: ["é", true, null, 2.5], s: { $credplane: "secret", value: "hidden" } }, false],
      ],
    },
    { op: "update", type: "oci_identity_auth_token", name: "tok", id: "ocid1.x", changes: [["description", "update", "old", "new \"q\"", false], ["gone", "delete", 3, null, false]] },
    { op: "replace", type: "alicloud_kms_secret", name: "k2", id: "n1", dbr: true, changes: [["secret_name", "update", "n1", "n2", true]] },
    { op: "delete", type: "aws_iam_access_key", name: "old", id: "AKIA", changes: [] },
    { op: "delete", type: "aws_iam_access_key", name: "k2", id: "AKIB", note: "replaced", changes: [] },
    { op: "same", type: "aws_iam_access_key", name: "same", id: "AKIC", changes: [] },
  ],
};

const PY_PLAN = `
import json, sys
from credplane.runtime.plan import Plan, Step, PropertyChange
from credplane.runtime.secret import unwrap
spec = json.loads(sys.stdin.read())
for action in ["preview", "up", "refresh", "destroy"]:
    plan = Plan(spec["stack"], action, warnings=list(spec["warnings"]))
    for s in spec["steps"]:
        plan.steps.append(Step(s["op"], s["type"], s["name"], s["id"], [PropertyChange(c[0], c[1], unwrap(c[2]), unwrap(c[3]), c[4]) for c in s["changes"]], s.get("dbr", False), note=s.get("note", "")))
    print(plan.render())
    print("=====")
`;

function tsPlanText(): string {
  let out = "";
  for (const action of ["preview", "up", "refresh", "destroy"] as const) {
    const plan = new Plan(PLAN_SPEC.stack, action);
    plan.warnings.push(...PLAN_SPEC.warnings);
    for (const s of PLAN_SPEC.steps as Record<string, unknown>[]) {
      const changes = (s["changes"] as unknown[][]).map((c) => new PropertyChange(c[0] as string, c[1] as string, unwrap(c[2]), unwrap(c[3]), c[4] as boolean));
      plan.steps.push(new Step(s["op"] as "create", s["type"] as string, s["name"] as string, s["id"] as string | null, changes, Boolean(s["dbr"]), {}, (s["note"] as string) ?? ""));
    }
    out += plan.render() + "\n=====\n";
  }
  return out;
}

test("a plan prints the same text as in Python (symbols, [secret], (unknown), sorted JSON)", () => {
  const ts = tsPlanText();
  assert.ok(ts.includes("[secret]") && ts.includes("(unknown)") && !ts.includes("hidden"));
  assert.equal(ts, python(PY_PLAN, JSON.stringify(PLAN_SPEC)));
});

test("plan text without Python: a fixed rendering", () => {
  const text = tsPlanText().split("=====")[0]!;
  assert.match(text, /^ \+ alicloud_kms_secret kms$/m);
  assert.match(text, /^       \+ secret_data: \(unknown\)$/m);
  assert.match(text, /^       \+ tags: \{"a": \["é", true, null, 2\.5\], "s": "\[secret\]", "z": 1\}$/m);
  assert.match(text, /^\+- alicloud_kms_secret k2 \(id n1\) \[delete before replace\]$/m);
  assert.match(text, /^       ~ secret_name: "n1" => "n2" \(forces replacement\)$/m);
  assert.match(text, /^Resources: 2 to create, 1 to update, 1 to replace, 1 to delete, 1 unchanged$/m);
});
