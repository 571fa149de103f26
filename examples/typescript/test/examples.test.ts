/**
 * Runs both examples end to end against `credplane serve --stdio --sandbox` (CREDPLANE_BIN, else
 * <repo>/target/debug/credplane; a missing binary fails) and checks their output: secrets shown
 * as `[secret]`, no plaintext secret printed, everything destroyed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import { Secret, StateFile, reveal } from "@credplane/sdk";

const HERE = path.resolve(__dirname, ".."); // dist/
const REPO = path.resolve(HERE, "..", "..", "..");
const BIN = process.env["CREDPLANE_BIN"] || path.join(REPO, "target", "debug", "credplane");
const PASS = "examples-test-passphrase";

function run(script: string, args: string[]): string {
  assert.ok(fs.existsSync(BIN), `the provider binary ${BIN} does not exist: cargo build, or set CREDPLANE_BIN`);
  const r = spawnSync(process.execPath, [path.join(HERE, script), ...args], {
    encoding: "utf8",
    env: { ...process.env, CREDPLANE_BIN: BIN, CREDPLANE_PASSPHRASE: PASS, RUST_LOG: "warn" },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `${script} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Every secret plaintext in a state file (and the secrets as JSON, for structured ones). */
function secretsIn(file: string): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Secret) {
      const plain = reveal(v);
      found.push(typeof plain === "string" ? plain : JSON.stringify(plain));
      if (typeof plain === "string") {
        try {
          const doc = JSON.parse(plain) as Record<string, unknown>; // the rotation's JSON document
          if (typeof doc["AccessKeySecret"] === "string") found.push(doc["AccessKeySecret"]);
        } catch {
          /* not JSON */
        }
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null) Object.values(v).forEach(walk);
  };
  for (const r of new StateFile(file, PASS).load("x").resources) walk(r.outputs);
  return found;
}

function tmpState(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "credplane-examples-")), "state.json");
}

function assertNoLeak(out: string, secrets: string[]): void {
  assert.ok(secrets.length > 0, "the state holds secrets to look for");
  for (const s of secrets) assert.ok(!out.includes(s), "a plaintext secret was printed");
  assert.ok(!out.includes('"$credplane"'), "a wire envelope was printed");
}

test("quickstart: five resource types, masked outputs, an update, everything destroyed", () => {
  const state = tmpState();
  const out = run("quickstart.js", ["--state", state]);
  for (const t of ["aws_iam_access_key", "oci_identity_customer_secret_key", "oci_identity_auth_token", "alicloud_ram_access_key", "alicloud_kms_secret"]) {
    assert.ok(out.includes(`+ ${t} `), `${t} created`);
  }
  assert.match(out, /secret = \[secret\]/);
  assert.match(out, /secret_data = \[secret\]/);
  assert.match(out, /~ description: "created by the quickstart" => "rotated by the quickstart"/);
  assert.match(out, /^Resources: 5 created, 0 unchanged$/m);
  assert.match(out, /^Resources: 1 updated, 4 unchanged$/m);
  assert.match(out, /^Resources: 5 deleted, 0 unchanged$/m);
  assert.deepEqual(new StateFile(state, PASS).load("quickstart").resources, []);
});

test("quickstart --keep: no plaintext secret is printed", () => {
  const state = tmpState();
  const out = run("quickstart.js", ["--state", state, "--keep"]);
  assert.ok(out.includes("[secret]"));
  const secrets = secretsIn(state);
  assert.ok(secrets.length >= 5, `secrets found: ${secrets.length}`);
  assertNoLeak(out, secrets);
  assert.ok(!fs.readFileSync(state, "utf8").includes(secrets[0]!), "plaintext secret in the state file");
});

test("rotate_keys (RAM, --keep): one key left, the KMS secret holds it, nothing leaked", () => {
  const state = tmpState();
  const out = run("rotate_keys.js", ["--cloud", "alicloud", "--rotations", "2", "--state", state, "--keep"]);
  assert.match(out, /KMS secret now holds key-2 \(id \S+\), value \[secret\]/);
  assert.match(out, /KMS secret now holds key-3 \(id \S+\), value \[secret\]/);
  const names = new StateFile(state, PASS).load("rotation").resources.map((r) => r.name).sort();
  assert.deepEqual(names, ["current-key", "key-3"]);
  assertNoLeak(out, secretsIn(state));
});

test("rotate_keys (AWS): rotations within the two-keys limit, then everything destroyed", () => {
  const state = tmpState();
  const out = run("rotate_keys.js", ["--cloud", "aws", "--rotations", "3", "--state", state]);
  assert.match(out, /^Resources: 1 created, 1 updated, 1 deleted, 0 unchanged$/m);
  assert.match(out, /KMS secret now holds key-4 .*value \[secret\]/);
  assert.match(out, /^Resources: 2 deleted, 0 unchanged$/m);
  assert.deepEqual(new StateFile(state, PASS).load("rotation").resources, []);
});

const PYTHONPATH = path.join(REPO, "sdk", "python");
const havePython = spawnSync(process.env["PYTHON"] || "python3", ["-c", "import credplane.runtime"], { env: { ...process.env, PYTHONPATH } }).status === 0;

/** Ids, timestamps and hashes vary between runs. */
function normalize(text: string): string {
  return text
    .split("\n")
    .filter((l) => !l.startsWith("state file:"))
    .map((l) =>
      l
        .replace(/\(id [^)]*\)/, "(id X)")
        .replace(/= "\d{4}-[0-9-]+T[^"]*"/, "= T")
        .replace(/[0-9a-f]{40}/g, "H")
        .replace(/(AKIA|LTAI5t|ocid1\.credential\.oc1\.\.)[A-Za-z0-9]+/g, "$1X"),
    )
    .join("\n");
}

test(
  "quickstart prints the same text as the Python quickstart",
  () => {
    assert.ok(havePython, "PYTHON cannot import the Python runtime (set PYTHON to a venv with sdk/python installed)");
    const ts = run("quickstart.js", ["--state", tmpState()]);
    const py = spawnSync(process.env["PYTHON"] || "python3", [path.join(REPO, "examples", "python", "quickstart.py"), "--state", tmpState()], {
      encoding: "utf8",
      env: { ...process.env, PYTHONPATH, CREDPLANE_BIN: BIN, CREDPLANE_PASSPHRASE: PASS, RUST_LOG: "warn" },
    });
    assert.equal(py.status, 0, py.stderr);
    assert.equal(normalize(ts), normalize(py.stdout));
  },
);
