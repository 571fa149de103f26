/**
 * Runs both examples end to end against `credplane serve --stdio --sandbox` (CREDPLANE_BIN, else
 * <repo>/target/debug/credplane; a missing binary fails) and checks their output: secrets shown
 * as `[secret]`, no plaintext secret printed, everything destroyed. The state is inspected
 * through the engine (`engine.export`, and a preview whose register replies carry the outputs).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import { Client, Stack, isSecretEnvelope } from "@credplane/sdk";

import { program } from "../quickstart";
import { declare } from "../rotate_keys";

const HERE = path.resolve(__dirname, ".."); // dist/
const REPO = path.resolve(HERE, "..", "..", "..");
const BIN = process.env["CREDPLANE_BIN"] || path.join(REPO, "target", "debug", "credplane");
const PASS = "examples-test-passphrase";
const ENV = { ...process.env, CREDPLANE_BIN: BIN, CREDPLANE_PASSPHRASE: PASS, RUST_LOG: "warn", CREDPLANE_ENGINE: "" };

function run(script: string, args: string[]): string {
  assert.ok(fs.existsSync(BIN), `the provider binary ${BIN} does not exist: cargo build, or set CREDPLANE_BIN`);
  const r = spawnSync(process.execPath, [path.join(HERE, script), ...args], { encoding: "utf8", env: ENV, timeout: 120_000 });
  assert.equal(r.status, 0, `${script} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs `fn` on a stack over `state` in a fresh `credplane serve --stdio --sandbox`. */
async function withStack<T>(name: string, state: string, prog: () => void, fn: (s: Stack) => Promise<T>): Promise<T> {
  const client = Client.stdio({ binary: BIN, sandbox: true, env: ENV });
  try {
    return await fn(new Stack(name, prog, { statePath: state, client, out: null, passphrase: PASS }));
  } finally {
    await client.close();
  }
}

/** The resource names in the stack's snapshot. */
async function storedNames(name: string, state: string): Promise<string[]> {
  const doc = await withStack(name, state, () => {}, (s) => s.export());
  return ((doc["resources"] ?? []) as { name: string }[]).map((r) => r.name).sort();
}

/** The plaintext of every secret output, from a no-change preview of `prog` over the state. */
async function secretsIn(name: string, state: string, prog: () => void): Promise<string[]> {
  const plan = await withStack(name, state, prog, (s) => s.preview());
  assert.deepEqual(Object.values(plan.ops()).filter((op) => op !== "same"), [], "the kept state matches the program");
  const found: string[] = [];
  for (const r of plan.registered.values()) {
    for (const v of Object.values(r.outputs)) {
      if (!isSecretEnvelope(v)) continue;
      found.push(typeof v.value === "string" ? v.value : JSON.stringify(v.value));
      try {
        const doc = JSON.parse(String(v.value)) as Record<string, unknown>; // the rotation's JSON document
        if (typeof doc["AccessKeySecret"] === "string") found.push(doc["AccessKeySecret"]);
      } catch {
        /* not JSON */
      }
    }
  }
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

test("quickstart: five resource types, masked outputs, an update, everything destroyed", async () => {
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
  assert.deepEqual(await storedNames("quickstart", state), []);
});

test("quickstart --keep: no plaintext secret is printed or stored", async () => {
  const state = tmpState();
  const out = run("quickstart.js", ["--state", state, "--keep"]);
  assert.ok(out.includes("[secret]"));
  const secrets = await secretsIn("quickstart", state, () => program("rotated by the quickstart"));
  assert.ok(secrets.length >= 5, `secrets found: ${secrets.length}`);
  assertNoLeak(out, secrets);
  const files = fs.readdirSync(path.dirname(state)).map((f) => fs.readFileSync(path.join(path.dirname(state), f), "utf8"));
  for (const s of secrets) assert.ok(!files.some((f) => f.includes(s)), "plaintext secret in a state file");
});

test("rotate_keys (RAM, --keep): one key left, the KMS secret holds it, nothing leaked", async () => {
  const state = tmpState();
  const out = run("rotate_keys.js", ["--cloud", "alicloud", "--rotations", "2", "--state", state, "--keep"]);
  assert.match(out, /KMS secret now holds key-2 \(id \S+\), value \[secret\]/);
  assert.match(out, /KMS secret now holds key-3 \(id \S+\), value \[secret\]/);
  assert.deepEqual(await storedNames("rotation", state), ["current-key", "key-3"]);
  assertNoLeak(out, await secretsIn("rotation", state, () => declare("alicloud", 3)));
});

test("rotate_keys (AWS): rotations within the two-keys limit, then everything destroyed", async () => {
  const state = tmpState();
  const out = run("rotate_keys.js", ["--cloud", "aws", "--rotations", "3", "--state", state]);
  assert.match(out, /^Resources: 1 created, 1 updated, 1 deleted, 0 unchanged$/m);
  assert.match(out, /KMS secret now holds key-4 .*value \[secret\]/);
  assert.match(out, /^Resources: 2 deleted, 0 unchanged$/m);
  assert.deepEqual(await storedNames("rotation", state), []);
});
