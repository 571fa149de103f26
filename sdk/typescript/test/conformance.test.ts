/**
 * The conformance runner: every tests/conformance/scenarios/*.json (format in
 * tests/conformance/README.md) against `credplane serve --stdio --sandbox`, each scenario on a
 * fresh `credplane` process (its engine runs the steps) and an empty state; the state after a step
 * is the one `engine.close` returns. The binary is CREDPLANE_BIN, else
 * <repo>/target/debug/credplane; a missing binary is a failure, never a skip.
 * Mirrors sdk/python/tests/test_conformance.py, unknown keys rejected.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import { Client, CredplaneError, Plan, Resource, Secret, Stack, StoredResource, isSecretEnvelope, isUnknown } from "../src";

export const REPO = path.resolve(__dirname, "..", "..", "..", "..");
export const BIN = process.env["CREDPLANE_BIN"] || path.join(REPO, "target", "debug", "credplane");
const SCENARIO_DIR = process.env["CREDPLANE_CONFORMANCE_DIR"] || path.join(REPO, "tests", "conformance", "scenarios");
const SCENARIOS = fs.existsSync(SCENARIO_DIR)
  ? fs.readdirSync(SCENARIO_DIR).filter((f) => f.endsWith(".json")).sort().map((f) => path.join(SCENARIO_DIR, f))
  : [];

const SCENARIO_KEYS = new Set(["name", "description", "steps"]);
const STEP_KEYS = new Set(["action", "program", "expect"]);
const ACTIONS = new Set(["preview", "up", "refresh", "destroy"]);
const RESOURCE_KEYS = new Set(["type", "name", "inputs", "dependsOn", "options"]);
const EXPECT_KEYS = new Set(["plan", "order", "unknown", "masked", "outputs", "equal", "sameId", "newId", "state", "error"]);
const PLAN_KEYS = new Set(["op", "changed", "unchanged", "replaceBy"]);
const OUTPUT_KEYS = new Set(["present", "secret", "values"]);
const OPS = new Set(["create", "update", "replace", "delete", "import"]);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function subset(keys: string[], allowed: Set<string>, what: unknown): void {
  const extra = keys.filter((k) => !allowed.has(k));
  assert.deepEqual(extra, [], `unknown keys ${JSON.stringify(extra)} in ${JSON.stringify(what)}`);
}

/** Rejects anything the format does not define, typos included. */
export function validate(doc: Json): void {
  assert.ok(typeof doc === "object" && doc !== null && !Array.isArray(doc), "a scenario is an object");
  subset(Object.keys(doc), SCENARIO_KEYS, Object.keys(doc));
  assert.ok("name" in doc && "steps" in doc, "name and steps are required");
  assert.ok(Array.isArray(doc.steps) && doc.steps.length > 0, "steps: a non-empty list");
  for (const step of doc.steps as Json[]) {
    subset(Object.keys(step), STEP_KEYS, step);
    assert.ok(ACTIONS.has(step.action), `action ${JSON.stringify(step.action)}`);
    for (const r of (step.program ?? []) as Json[]) {
      subset(Object.keys(r), RESOURCE_KEYS, r);
      assert.ok("type" in r && "name" in r, JSON.stringify(r));
    }
    const expect = step.expect ?? {};
    subset(Object.keys(expect), EXPECT_KEYS, Object.keys(expect));
    for (const e of Object.values(expect.plan ?? {}) as Json[]) {
      subset(Object.keys(e), PLAN_KEYS, e);
      assert.ok(OPS.has(e.op), JSON.stringify(e));
    }
    for (const e of Object.values(expect.outputs ?? {}) as Json[]) subset(Object.keys(e), OUTPUT_KEYS, e);
  }
}

function buildProgram(spec: Json[], literals: string[]): () => void {
  return () => {
    const declared = new Map<string, Resource>();
    const convert = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(convert);
      if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        if (keys.length === 1 && keys[0] === "$ref") {
          const ref = String(o["$ref"]);
          const dot = ref.indexOf(".");
          const target = declared.get(ref.slice(0, dot));
          assert.ok(target !== undefined, `$ref to ${ref}, not declared earlier`);
          return target._output(ref.slice(dot + 1));
        }
        if (isSecretEnvelope(o)) {
          literals.push(typeof o.value === "string" ? o.value : JSON.stringify(o.value));
          return new Secret(convert(o.value));
        }
        return Object.fromEntries(keys.map((k) => [k, convert(o[k])]));
      }
      return v;
    };
    for (const r of spec) {
      const dependsOn = ((r.dependsOn ?? []) as string[]).map((d) => declared.get(d)!);
      declared.set(r.name, new Resource(r.type, r.name, convert(r.inputs ?? {}) as Record<string, unknown>, { ...(r.options ?? {}), dependsOn }));
    }
  };
}

type State = Record<string, StoredResource>;

/** A value by plaintext, from the state (secrets enveloped, with their value). */
function plaintext(state: State, dotted: string): unknown {
  const dot = dotted.indexOf(".");
  const [name, prop] = [dotted.slice(0, dot), dotted.slice(dot + 1)];
  const r = state[name];
  const v = prop === "id" ? r?.id : r?.outputs[prop];
  return isSecretEnvelope(v) ? v.value : v;
}

function checkExpect(expect: Json, plan: Plan, state: State, idsBefore: Map<string, string>, literals: string[], where: string): void {
  const text = plan.text;
  if ("plan" in expect) {
    const got = Object.fromEntries(Object.entries(plan.ops()).filter(([, op]) => op !== "same"));
    const want = Object.fromEntries(Object.entries(expect.plan as Record<string, Json>).map(([n, e]) => [n, e.op]));
    assert.deepEqual(got, want, `${where}: plan ops\n${text}`);
    for (const [name, e] of Object.entries(expect.plan as Record<string, Json>)) {
      const step = plan.step(name)!;
      const changed = new Set(step.changes.map((c) => c.name));
      const missing = ((e.changed ?? []) as string[]).filter((p) => !changed.has(p));
      assert.deepEqual(missing, [], `${where}: ${name} changes ${JSON.stringify([...changed])} lack ${JSON.stringify(missing)}`);
      const extra = ((e.unchanged ?? []) as string[]).filter((p) => changed.has(p));
      assert.deepEqual(extra, [], `${where}: ${name} should not change ${JSON.stringify(extra)}`);
      const forced = new Set(step.changes.filter((c) => c.replace).map((c) => c.name));
      const notForced = ((e.replaceBy ?? []) as string[]).filter((p) => !forced.has(p));
      assert.deepEqual(notForced, [], `${where}: ${name} replacement forced by ${JSON.stringify([...forced])}`);
    }
  }
  if ("order" in expect) {
    const order = expect.order as string[];
    const names = plan.steps.filter((s) => s.note !== "replaced").map((s) => s.name).filter((n) => order.includes(n));
    assert.deepEqual(names, order, `${where}: order`);
  }
  const lines = text.split("\n");
  for (const [name, props] of Object.entries((expect.unknown ?? {}) as Record<string, string[]>)) {
    const reg = plan.registered.get(name);
    assert.ok(reg !== undefined, `${where}: no register reply for ${name}`);
    for (const prop of props) {
      assert.ok(isUnknown(reg.outputs[prop]), `${where}: ${name}.${prop} should be unknown`);
      if (plan.step(name)?.changes.some((c) => c.name === prop)) {
        assert.ok(
          lines.some((l) => /^[+~-]/.test(l.trim()) && l.includes(` ${prop}: `) && l.includes("(unknown)")),
          `${where}: ${name}.${prop} not printed as (unknown)\n${text}`,
        );
      }
    }
  }
  if ("masked" in expect) {
    const plaintexts = [...literals];
    for (const r of Object.values(state)) {
      for (const v of Object.values(r.outputs)) if (isSecretEnvelope(v)) plaintexts.push(typeof v.value === "string" ? v.value : JSON.stringify(v.value));
    }
    for (const p of plaintexts) assert.ok(!text.includes(p), `${where}: a secret leaked into the printed plan`);
    for (const [name, props] of Object.entries(expect.masked as Record<string, string[]>)) {
      const step = plan.step(name);
      assert.ok(step !== undefined, `${where}: no step for ${name}`);
      for (const prop of props) {
        const change = step.changes.find((c) => c.name === prop);
        assert.ok(change !== undefined && change.new === "[secret]", `${where}: ${name}.${prop} not a secret change`);
        assert.ok(lines.some((l) => l.includes(` ${prop}: `) && l.includes("[secret]")), `${where}: ${name}.${prop} not printed masked\n${text}`);
      }
    }
  }
  for (const [name, e] of Object.entries((expect.outputs ?? {}) as Record<string, Json>)) {
    const r = state[name];
    assert.ok(r !== undefined, `${where}: ${name} not in the state`);
    const outputs: Record<string, unknown> = { id: r.id, ...r.outputs };
    for (const prop of (e.present ?? []) as string[]) {
      assert.ok(outputs[prop] !== undefined && outputs[prop] !== null, `${where}: ${name}.${prop} missing`);
    }
    for (const prop of (e.secret ?? []) as string[]) assert.ok(isSecretEnvelope(outputs[prop]), `${where}: ${name}.${prop} not secret`);
    for (const [prop, value] of Object.entries((e.values ?? {}) as Record<string, unknown>)) {
      assert.deepEqual(plaintext(state, `${name}.${prop}`), value, `${where}: ${name}.${prop}`);
    }
  }
  for (const [a, b] of (expect.equal ?? []) as [string, string][]) {
    const va = plaintext(state, a);
    assert.ok(va !== undefined && va !== null, `${where}: ${a} missing`);
    assert.deepEqual(va, plaintext(state, b), `${where}: ${a} != ${b}`);
  }
  for (const name of (expect.sameId ?? []) as string[]) {
    assert.ok(state[name] !== undefined && state[name].id === idsBefore.get(name), `${where}: ${name} id changed`);
  }
  for (const name of (expect.newId ?? []) as string[]) {
    assert.ok(state[name] !== undefined && state[name].id !== idsBefore.get(name), `${where}: ${name} id unchanged`);
  }
  if ("state" in expect) assert.deepEqual(Object.keys(state).sort(), [...(expect.state as string[])].sort(), `${where}: state`);
}

const PASSPHRASE = "conformance-passphrase";

/** Runs one scenario on a fresh `credplane serve --stdio --sandbox` and an empty state directory. */
export async function runScenario(scenario: Json): Promise<void> {
  validate(scenario);
  assert.ok(fs.existsSync(BIN), `the provider binary ${BIN} does not exist: build it (cargo build) or set CREDPLANE_BIN`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "credplane-conformance-"));
  const literals: string[] = [];
  let idsBefore = new Map<string, string>();
  let program: Json[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, CREDPLANE_PASSPHRASE: PASSPHRASE, RUST_LOG: process.env["RUST_LOG"] ?? "warn" };
  delete env["CREDPLANE_ENGINE"];
  const client = Client.stdio({ binary: BIN, sandbox: true, env });
  try {
    for (const [i, step] of (scenario.steps as Json[]).entries()) {
      const where = `${scenario.name} step ${i} (${step.action})`;
      if ("program" in step) program = step.program;
      const stack = new Stack(scenario.name, buildProgram(program, literals), { backend: path.join(dir, "state.json"), client, out: null, passphrase: PASSPHRASE });
      const expect = step.expect ?? {};
      const action = step.action as "preview" | "up" | "refresh" | "destroy";
      if ("error" in expect) {
        await assert.rejects(
          () => stack[action](),
          (e: unknown) => {
            assert.ok(e instanceof CredplaneError, `${where}: expected a JSON-RPC error, got ${String(e)}`);
            assert.equal(e.code, expect.error.code, `${where}: error code (${e.message})`);
            if ("cloudCode" in expect.error) assert.equal(e.cloudCode, expect.error.cloudCode, `${where}: cloudCode`);
            if ("message" in expect.error) assert.ok(e.message.includes(expect.error.message), `${where}: message ${e.message}`);
            return true;
          },
          `${where}: expected error ${JSON.stringify(expect.error)}`,
        );
        continue;
      }
      const plan = await stack[action]();
      checkExpect(expect, plan, plan.outcome.resources, idsBefore, literals, where);
      idsBefore = new Map(Object.entries(plan.outcome.resources).map(([n, r]) => [n, r.id] as const));
    }
  } finally {
    await client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("the provider binary exists (build it with cargo build or set CREDPLANE_BIN)", () => {
  assert.ok(fs.existsSync(BIN), `${BIN} does not exist`);
});

test("the scenarios are valid, end with destroy, and have unique names", () => {
  assert.ok(SCENARIOS.length >= 4, `scenarios found in ${SCENARIO_DIR}: ${SCENARIOS.length}`);
  const names = new Set<string>();
  for (const p of SCENARIOS) {
    const doc = JSON.parse(fs.readFileSync(p, "utf8")) as Json;
    validate(doc);
    assert.equal(doc.steps[doc.steps.length - 1].action, "destroy", `${path.basename(p)} must end with destroy`);
    assert.ok(!names.has(doc.name), `duplicate scenario name ${doc.name}`);
    names.add(doc.name);
  }
});

for (const p of SCENARIOS) {
  test(`scenario ${path.basename(p, ".json")}`, async () => {
    await runScenario(JSON.parse(fs.readFileSync(p, "utf8")));
  });
}

test("validation rejects typos", () => {
  assert.throws(() => validate({ name: "x", steps: [{ action: "up", expect: { plan: { a: { op: "create", chnaged: [] } } } }] }));
  assert.throws(() => validate({ name: "x", steps: [{ action: "apply" }] }));
  assert.throws(() => validate({ name: "x", steps: [{ action: "up", expect: { outptus: {} } }] }));
});

const BASE = {
  type: "alicloud_kms_secret",
  name: "kms",
  inputs: { secret_name: "neg", secret_data: { $credplane: "secret", value: "NEG-PLAIN" }, version_id: "v1" },
};
const WRONG: Json[] = [
  { plan: { kms: { op: "update" } } },
  { plan: {} },
  { plan: { kms: { op: "create", changed: ["description"] } } },
  { outputs: { kms: { values: { secret_name: "other" } } } },
  { outputs: { kms: { secret: ["secret_name"] } } },
  { state: [] },
  { error: { code: -32001 } },
  { masked: { kms: ["secret_name"] } },
  { unknown: { kms: ["id"] } },
  { equal: [["kms.secret_name", "kms.version_id"]] },
  { sameId: ["kms"] },
];

test("the runner detects wrong expectations", async () => {
  // Positive control: the same step with right expectations passes, so each failure below is
  // the expectation's.
  await runScenario({
    name: "positive",
    steps: [{ action: "up", program: [BASE], expect: { plan: { kms: { op: "create" } }, state: ["kms"], outputs: { kms: { secret: ["secret_data"] } } } }],
  });
  for (const expect of WRONG) {
    await assert.rejects(
      runScenario({ name: "negative", steps: [{ action: "up", program: [BASE], expect }] }),
      assert.AssertionError,
      `not detected: ${JSON.stringify(expect)}`,
    );
  }
});

