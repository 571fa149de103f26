/**
 * Stack engine tests on an in-memory fake provider (a Transport), for what the sandbox cannot
 * provoke on demand: delete-before-replace, pending-create markers, -32004 PartiallyCreated,
 * timeouts, reconciliation, failures mid-run; plus Output.apply / Output.all and the state file.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import {
  Client,
  CloudError,
  Output,
  PassphraseRequiredError,
  PendingOperationError,
  PartiallyCreatedError,
  Resource,
  ResourceOptions,
  Secret,
  Stack,
  StackError,
  TimeoutError,
  Transport,
  UNKNOWN,
  Unknown,
  errorFromReply,
  reveal,
} from "../src";

type Map_ = Record<string, unknown>;
const MARK = "$credplane";

/** A provider with one type, `fake`: `name` forces replacement, `fail` provokes errors. */
class FakeProvider implements Transport {
  readonly objects = new Map<string, Map_>();
  readonly calls: string[] = [];
  #next = 1;
  dbr = false;

  async call(method: string, params: object): Promise<unknown> {
    const p = JSON.parse(JSON.stringify(params)) as Map_;
    const news = (p["news"] ?? p["inputs"] ?? {}) as Map_;
    switch (method) {
      case "configure":
        return {};
      case "check":
        return { inputs: { size: 1, ...news }, failures: typeof news["size"] === "string" ? [{ property: "size", reason: "a number" }] : [] };
      case "diff": {
        const olds = p["olds"] as Map_;
        const detailed: Record<string, { kind: string }> = {};
        for (const k of new Set([...Object.keys(news), ...Object.keys(olds)])) {
          if (["id", "secret", "derived"].includes(k)) continue;
          const a = JSON.stringify(olds[k]);
          const b = JSON.stringify(news[k]);
          if (a === b) continue;
          const kind = olds[k] === undefined ? "add" : news[k] === undefined ? "delete" : "update";
          detailed[k] = { kind: k === "name" ? `${kind}-replace` : kind };
        }
        const replaces = Object.keys(detailed).filter((k) => k === "name");
        return { changes: Object.keys(detailed).length > 0, replaces, stables: [], deleteBeforeReplace: this.dbr && replaces.length > 0, detailedDiff: detailed };
      }
      case "create": {
        this.calls.push(`create ${String(news["name"])}${p["preview"] ? " (preview)" : ""}`);
        if (p["preview"]) return { id: "", outputs: { ...news, id: { [MARK]: "unknown" }, secret: { [MARK]: "unknown" } } };
        const id = `id-${this.#next++}`;
        const outputs = { ...news, id, secret: { [MARK]: "secret", value: `plain-${id}` } };
        if (news["fail"] === "partial") {
          this.objects.set(id, outputs);
          throw errorFromReply({ code: -32004, message: "tagging failed", data: { message: "tagging failed", retryable: false, id, outputs } });
        }
        if (news["fail"] === "timeout") {
          this.objects.set(String(news["name"]), { ...outputs, id: news["name"] });
          throw errorFromReply({ code: -32003, message: "timed out" });
        }
        if (news["fail"] === "cloud") throw errorFromReply({ code: -32001, message: "denied", data: { message: "denied", retryable: false, cloudCode: "AccessDenied" } });
        this.objects.set(id, outputs);
        return { id, outputs };
      }
      case "read": {
        const o = this.objects.get(String(p["id"]));
        return o === undefined ? null : { id: p["id"], inputs: { name: o["name"] }, outputs: o };
      }
      case "update": {
        const id = String(p["id"]);
        const outputs = { ...(p["olds"] as Map_), ...news, id };
        if (!p["preview"]) {
          this.calls.push(`update ${String(news["name"])}`);
          this.objects.set(id, outputs);
        }
        return { outputs };
      }
      case "delete":
        this.calls.push(`delete ${String(((p["outputs"] as Map_) ?? {})["name"])}`);
        this.objects.delete(String(p["id"]));
        return {};
      default:
        throw errorFromReply({ code: -32601, message: method });
    }
  }

  async close(): Promise<void> {}
}

function fixture(program: () => void, opts: { passphrase?: string } = {}) {
  const provider = new FakeProvider();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "credplane-stack-"));
  const ops: string[] = [];
  let text = "";
  const statePath = path.join(dir, "state.json");
  const make = (prog: () => void = program) =>
    new Stack("t", prog, {
      statePath,
      client: new Client(provider),
      passphrase: opts.passphrase ?? "pw",
      scryptN: 2 ** 10,
      out: { write: (s: string) => (text += s) },
      afterOperation: (op, name) => ops.push(`${op} ${name}`),
    });
  return { provider, statePath, ops, make, text: () => text, reset: () => (text = "") };
}

const fake = (name: string, inputs: Map_, opts: ResourceOptions = {}) => new Resource("fake", name, inputs, opts);

test("create, update in place, replace (create before delete), delete undeclared, destroy", async () => {
  let size = 1;
  let label = "a";
  let extra = true;
  const f = fixture(() => {
    const a = fake("a", { name: label, size });
    if (extra) fake("b", { name: "b", upstream: a._output("id") });
  });
  const plan = await f.make().up();
  assert.deepEqual(plan.ops(), { a: "create", b: "create" });
  assert.deepEqual(f.ops, ["pending-create a", "create a", "pending-create b", "create b"]);
  const st = f.make().state();
  assert.equal(st.get("b")!.inputs["upstream"], st.get("a")!.id);
  assert.deepEqual(st.get("b")!.dependencies, ["a"]);
  assert.ok(st.get("a")!.outputs["secret"] instanceof Secret);

  size = 2;
  assert.deepEqual((await f.make().up()).ops(), { a: "update", b: "same" });
  assert.equal(f.make().state().get("a")!.outputs["size"], 2);

  label = "a2";
  f.provider.calls.length = 0;
  const rep = await f.make().up();
  assert.deepEqual(rep.ops(), { a: "replace", b: "update" });
  assert.deepEqual(f.provider.calls, ["create a2", "update b", "delete a"], "create before delete, dependents updated first");
  assert.ok(rep.step("a")!.changes.find((c) => c.name === "name")!.replace);
  assert.match(f.text(), /^\+- fake a \(id id-\d+\)$/m);
  assert.match(f.text(), /~ name: "a" => "a2" \(forces replacement\)/);

  f.provider.dbr = true;
  label = "a3";
  f.provider.calls.length = 0;
  const dbr = await f.make().up();
  assert.ok(dbr.step("a")!.deleteBeforeReplace);
  assert.deepEqual(f.provider.calls, ["delete a2", "create a3", "update b"], "delete before replace");
  assert.match(f.text(), /\[delete before replace\]/);

  extra = false;
  assert.deepEqual((await f.make().preview()).ops(), { a: "same", b: "delete" });
  assert.deepEqual((await f.make().up()).ops(), { a: "same", b: "delete" });
  assert.deepEqual(f.make().state().resources.map((r) => r.name), ["a"]);
  const d = await f.make().destroy();
  assert.deepEqual(d.ops(), { a: "delete" });
  assert.equal(f.provider.objects.size, 0);
  assert.deepEqual(f.make().state().resources, []);
});

test("destroy and undeclared deletes go dependents first", async () => {
  const f = fixture(() => {
    const a = fake("a", { name: "a" });
    const b = fake("b", { name: "b", x: a._output("id") });
    fake("c", { name: "c" }, { dependsOn: [b] });
  });
  await f.make().up();
  f.provider.calls.length = 0;
  await f.make(() => undefined).up();
  assert.deepEqual(f.provider.calls, ["delete c", "delete b", "delete a"]);
});

test("preview: unknown outputs flow as the unknown sentinel and print (unknown); nothing is written", async () => {
  const f = fixture(() => {
    const a = fake("a", { name: "a" });
    fake("b", { name: "b", ref: a._output("id"), both: Output.all(a._output("id"), a._output("name")).apply((v) => v.join("/")) });
  });
  const plan = await f.make().preview();
  assert.ok(plan.step("b")!.changes.find((c) => c.name === "ref")!.new instanceof Unknown);
  assert.equal(plan.step("b")!.outputs["ref"], UNKNOWN);
  assert.match(f.text(), /^       \+ ref: \(unknown\)$/m);
  assert.match(f.text(), /^       \+ both: \(unknown\)$/m);
  assert.equal(fs.existsSync(f.statePath), false);
});

test("Output.apply and Output.all: a derived value of a secret stays secret", async () => {
  const f = fixture(() => {
    const a = fake("a", { name: "a" });
    fake("b", {
      name: "b",
      upper: a._output<Secret<string>>("secret").apply((s) => s.toUpperCase()),
      doc: Output.all(a._output<string>("id"), a._output<Secret<string>>("secret")).apply(([id, s]) => `${id}:${s}`),
      plain: a._output<string>("id").apply((id) => `key ${id}`),
    });
  });
  await f.make().up();
  const st = f.make().state();
  const id = st.get("a")!.id;
  const b = st.get("b")!;
  assert.ok(b.inputs["upper"] instanceof Secret);
  assert.equal(reveal(b.inputs["upper"]), `PLAIN-${id.toUpperCase()}`);
  assert.ok(b.inputs["doc"] instanceof Secret);
  assert.equal(reveal(b.inputs["doc"]), `${id}:plain-${id}`);
  assert.equal(b.inputs["plain"], `key ${id}`);
  assert.ok(!f.text().includes(`plain-${id}`), "a secret leaked into the plan");
  const raw = fs.readFileSync(f.statePath, "utf8");
  assert.ok(!raw.includes(`plain-${id}`), "a plaintext secret in the state file");
  assert.equal(fs.statSync(f.statePath).mode & 0o777, 0o600);
});

test("-32004 PartiallyCreated: recorded as partial, error raised; the next up keeps it", async () => {
  let fail: string | undefined = "partial";
  const f = fixture(() => {
    fake("first", { name: "first" });
    fake("a", fail !== undefined ? { name: "a", fail } : { name: "a" });
  });
  await assert.rejects(f.make().up(), PartiallyCreatedError);
  assert.deepEqual(f.ops, ["pending-create first", "create first", "pending-create a", "partially-created a"]);
  const st = f.make().state();
  assert.equal(st.pending.length, 0);
  assert.equal(st.get("a")!.partial, true);
  assert.match(f.text(), /warning: stopped by PartiallyCreatedError: tagging failed; the steps listed were applied/);
  fail = undefined;
  const plan = await f.make().up();
  assert.deepEqual(plan.ops(), { first: "same", a: "update" }, "the existing object is updated, not created again");
  assert.equal(f.make().state().get("a")!.partial, false);
});

test("a cloud error on create drops the marker; a timeout keeps it and blocks the next up", async () => {
  let fail = "cloud";
  const f = fixture(() => fake("a", { name: "a", fail }));
  await assert.rejects(f.make().up(), (e: unknown) => e instanceof CloudError && e.cloudCode === "AccessDenied");
  assert.deepEqual(f.make().state().pending, []);
  assert.deepEqual(f.ops, ["pending-create a", "create-failed a"]);

  fail = "timeout";
  await assert.rejects(f.make().up(), TimeoutError);
  assert.deepEqual(f.make().state().pending.map((p) => p.name), ["a"]);
  await assert.rejects(f.make().up(), PendingOperationError);
  f.reset();
  await f.make().preview();
  assert.match(f.text(), /warning: interrupted creates pending for a/);
  // Adopt what the interrupted create made.
  await f.make().resolvePending("a", "a");
  const st = f.make().state();
  assert.deepEqual(st.pending, []);
  assert.equal(st.get("a")!.id, "a");
  // Or forget a marker.
  await assert.rejects(f.make().resolvePending("nope"), StackError);
});

test("pending creates of a KMS secret are reconciled by reading it by name", async () => {
  const f = fixture(() => new Resource("alicloud_kms_secret", "k", { name: "k", secret_name: "k", fail: "timeout" }));
  await assert.rejects(f.make().up(), TimeoutError);
  f.reset();
  const plan = await f.make().up(); // adopted, nothing else to do
  assert.deepEqual(plan.ops(), { k: "same" });
  assert.match(f.text(), /adopted alicloud_kms_secret k \(id k\) created by an interrupted run/);
  assert.equal(f.make().state().get("k")!.id, "k");
});

test("refresh records drift and forgets what is gone", async () => {
  const f = fixture(() => {
    fake("a", { name: "a" });
    fake("b", { name: "b" });
  });
  await f.make().up();
  const st = f.make().state();
  const a = f.provider.objects.get(st.get("a")!.id)!;
  a["size"] = 5;
  f.provider.objects.delete(st.get("b")!.id);
  f.reset();
  const plan = await f.make().refresh();
  assert.deepEqual(plan.ops(), { a: "update", b: "delete" });
  assert.match(f.text(), /^Resources: 1 drifted, 1 gone, 0 unchanged$/m);
  assert.match(f.text(), /~ size: 1 => 5/);
  const after = f.make().state();
  assert.deepEqual(after.resources.map((r) => r.name), ["a"]);
  assert.equal(after.get("a")!.outputs["size"], 5);
  assert.ok(after.get("a")!.outputs["secret"] instanceof Secret);
});

test("check failures, duplicate names, cycles and undeclared dependencies are errors", async () => {
  await assert.rejects(fixture(() => fake("a", { name: "a", size: "big" })).make().preview(), /a: invalid inputs: size: a number/);
  await assert.rejects(fixture(() => (fake("a", {}), fake("a", {}))).make().preview(), /two resources are named "a"/);
  const outside = fake("x", {});
  await assert.rejects(fixture(() => fake("a", { r: outside._output("id") })).make().preview(), /a depends on x, which is not declared/);
  await assert.rejects(
    fixture(() => {
      const a = fake("a", {});
      const b = fake("b", {}, { dependsOn: [a] });
      Object.assign(a, { dependsOn: [b] }); // not possible through the API; the engine still checks
    }).make().preview(),
    /dependency cycle/,
  );
});

test("up needs a passphrase", async () => {
  const saved = process.env["CREDPLANE_PASSPHRASE"];
  delete process.env["CREDPLANE_PASSPHRASE"];
  try {
    await assert.rejects(fixture(() => fake("a", {}), { passphrase: "" }).make().up(), PassphraseRequiredError);
  } finally {
    if (saved !== undefined) process.env["CREDPLANE_PASSPHRASE"] = saved;
  }
});

test("resources declared with { stack } (no program)", async () => {
  const f = fixture(() => undefined);
  const stack = new Stack("t2", undefined, { statePath: f.statePath + ".2", client: new Client(f.provider), passphrase: "pw", scryptN: 2 ** 10, out: null });
  fake("a", { name: "a" }, { stack });
  assert.deepEqual((await stack.up()).ops(), { a: "create" });
  assert.deepEqual((await stack.destroy()).ops(), { a: "delete" });
});
