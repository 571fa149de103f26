/**
 * Runtime and generated-code tests. The provider tests spawn the binary named by
 * CREDPLANE_BIN (scripts/test-sdk-gen.sh sets it), else `credplane` from PATH.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { inspect } from "node:util";

import * as http from "node:http";

import {
  AlicloudKmsSecret,
  AlicloudKmsSecretArgs,
  AlicloudRamAccessKey,
  AwsIamAccessKey,
  AwsIamAccessKeyArgs,
  AwsIamAccessKeyState,
  Client,
  CredplaneError,
  InvalidParamsError,
  InvalidRequestError,
  KeyStatus,
  LockedError,
  ProtectedError,
  Secret,
  Stack,
  Transport,
  errorFromReply,
} from "../src";

const BIN = process.env.CREDPLANE_BIN ?? "credplane";

test("a Secret prints masked everywhere", () => {
  const s = new Secret("hunter2");
  assert.equal(String(s), "[secret]");
  assert.equal(`${s}`, "[secret]");
  assert.equal(inspect(s), "[secret]");
  assert.equal(inspect({ s }), "{ s: [secret] }");
  assert.equal(s.value, "hunter2");
});

test("the secret envelope round-trips", () => {
  const s = new Secret("hunter2");
  const wire = JSON.parse(JSON.stringify({ s })) as { s: unknown };
  assert.deepEqual(wire.s, { $credplane: "secret", value: "hunter2" });
  assert.equal(Secret.fromWire(wire.s).value, "hunter2");
});

test("Args.toWire uses wire names and envelopes secret inputs", () => {
  assert.deepEqual(AwsIamAccessKeyArgs.toWire({ user: "alice", status: KeyStatus.Inactive }), {
    user: "alice",
    status: "Inactive",
  });
  const w = AlicloudKmsSecretArgs.toWire({ secretName: "db", secretData: "pw", versionId: "v1" });
  assert.deepEqual(w["secret_data"], { $credplane: "secret", value: "pw" });
});

test("State.fromWire reads envelopes and unknowns", () => {
  const st = AwsIamAccessKeyState.fromWire({
    id: "AKIA1",
    user: "alice",
    secret: { $credplane: "secret", value: "wJal" },
    create_date: { $credplane: "unknown" },
  });
  assert.ok(st.secret instanceof Secret);
  assert.equal(st.secret.value, "wJal");
  assert.equal(st.createDate, undefined);
  assert.ok(!inspect(st).includes("wJal"));
});

test("a -32602 reply maps to InvalidParamsError with failures", () => {
  const err = errorFromReply({
    code: -32602,
    message: "invalid params",
    data: { message: "invalid params", retryable: false, failures: [{ property: "type", reason: "unknown" }] },
  });
  assert.ok(err instanceof InvalidParamsError);
  assert.deepEqual(err.failures, [{ property: "type", reason: "unknown" }]);
});

test("engine error codes map to their classes", () => {
  assert.ok(errorFromReply({ code: -32011, message: "locked" }) instanceof LockedError);
  assert.ok(errorFromReply({ code: -32012, message: "protected" }) instanceof ProtectedError);
  assert.equal(errorFromReply({ code: -32099, message: "x" }).constructor, CredplaneError);
});

test("check against the binary over stdio: pipelined calls, typed errors", async () => {
  const client = Client.stdio({ binary: BIN });
  try {
    const [schema, ok, bad] = await Promise.all([
      client.call<{ resources: Record<string, unknown> }>("getSchema"),
      client.call<{ inputs: Record<string, unknown>; failures: unknown[] }>("check", { type: "aws_iam_access_key", news: AwsIamAccessKeyArgs.toWire({ user: "alice" }) }),
      client.call<{ failures: { property: string }[] }>("check", { type: "aws_iam_access_key", news: { user: 5 } }),
    ]);
    assert.ok("aws_iam_access_key" in schema.resources);
    assert.deepEqual(ok.failures, []);
    assert.equal(ok.inputs["status"], "Active");
    assert.equal(bad.failures[0]?.property, "user");
    await assert.rejects(client.call("check", { type: "nope", news: {} }), (e: unknown) => {
      assert.ok(e instanceof InvalidParamsError);
      assert.equal(e.failures[0]?.property, "type");
      return true;
    });
  } finally {
    await client.close();
  }
});

test("check over HTTP with a bearer token; a wrong token is refused", async () => {
  const token = "test-token-at-least-32-characters-" + process.pid; // the server refuses shorter ones
  const server = spawn(BIN, ["serve", "--listen", "127.0.0.1:0"], {
    env: { ...process.env, CREDPLANE_TOKEN: token },
    stdio: ["ignore", "ignore", "pipe"],
  });
  try {
    let url: string | undefined;
    for await (const line of createInterface({ input: server.stderr! })) {
      url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (url !== undefined) break;
    }
    assert.ok(url !== undefined, "the server printed its address");
    const ok = await Client.http(url, token).call<{ failures: unknown[] }>("check", { type: AwsIamAccessKey.TYPE, news: { user: "alice" } });
    assert.deepEqual(ok.failures, []);
    await assert.rejects(Client.http(url, "wrong").call("getSchema"), InvalidRequestError);
  } finally {
    server.kill();
    await once(server, "exit");
  }
});

type Call = { method: string; params: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * An engine that records calls and replies to each register on a later turn of the event loop
 * (so an SDK awaiting registrations one by one would be seen), with outputs from `outputsOf`.
 */
class FakeEngine implements Transport {
  readonly calls: Call[] = [];
  registersBeforeFirstReply = -1;
  closeError: CredplaneError | undefined;
  constructor(readonly outputsOf: (p: Call["params"]) => Record<string, unknown> = () => ({})) {}

  registers(): Call["params"][] {
    return this.calls.filter((c) => c.method === "engine.register").map((c) => c.params);
  }

  async call(method: string, params: object): Promise<unknown> {
    this.calls.push({ method, params: params as Call["params"] });
    if (method === "engine.open") return { deployment: "d-1", warnings: [] };
    if (method === "engine.close") {
      if (this.closeError !== undefined) throw this.closeError;
      return { summary: {}, steps: [{ op: "create", type: "t", name: "a", note: "", deleteBeforeReplace: false, changes: [] }], plan: "PLAN TEXT", outputs: {}, warnings: [], mayExist: [] };
    }
    if (method !== "engine.register") return {};
    await new Promise((r) => setImmediate(r));
    if (this.registersBeforeFirstReply < 0) this.registersBeforeFirstReply = this.registers().length;
    const p = params as Call["params"];
    return { name: p["name"], id: `id-${p["name"]}`, op: "create", outputs: this.outputsOf(p) };
  }

  async close(): Promise<void> {}
}

function stackOn(engine: FakeEngine, program: () => void, out: string[] = []): Stack {
  return new Stack("s", program, { client: new Client(engine), backend: "/tmp/x.json", out: { write: (t: string) => out.push(t) } });
}

test("Stack.up pipelines registrations, sends references, then closes and prints the engine's plan", async () => {
  const engine = new FakeEngine((p) => (p["name"] === "ram" ? { secret: { $credplane: "secret", value: "S" } } : {}));
  const out: string[] = [];
  const plan = await stackOn(engine, () => {
    const ram = new AlicloudRamAccessKey("ram", { userName: "alice" });
    for (let i = 0; i < 20; i++) new AlicloudKmsSecret(`kms-${i}`, { secretName: `s${i}`, secretData: ram.secret.required().apply((s) => s), versionId: "v1" }, {});
    new AlicloudKmsSecret("plain", { secretName: "p", secretData: ram._output<string>("secret"), versionId: "v1" }, { dependsOn: [ram], protect: true });
  }, out).up();
  assert.deepEqual(engine.calls[0], { method: "engine.open", params: { stack: "s", action: "up", backend: "/tmp/x.json", parallelism: undefined, passphrase: undefined } });
  const regs = engine.registers();
  assert.equal(regs.length, 22);
  // The first and the last are sent before any reply; the 20 derived ones wait for ram only.
  assert.ok(engine.registersBeforeFirstReply >= 2, `registers before the first reply: ${engine.registersBeforeFirstReply}`);
  const plain = regs.find((p) => p["name"] === "plain")!;
  assert.deepEqual(plain["inputs"]["secret_data"], { $credplane: "ref", resource: "ram", property: "secret" });
  assert.deepEqual(plain["options"], { protect: true, dependsOn: ["ram"] });
  assert.equal(engine.calls.at(-1)!.method, "engine.close");
  assert.deepEqual(out, ["PLAN TEXT\n"]);
  assert.deepEqual(plan.ops(), { a: "create" });
});

test("apply waits for the source's reply: secret stays secret, unknown stays unknown, the source becomes a dependency", async () => {
  for (const [secret, want] of [
    [{ $credplane: "secret", value: "S3CRET" }, { $credplane: "secret", value: "S3CRET!" }],
    [{ $credplane: "unknown" }, { $credplane: "unknown" }],
  ] as const) {
    const engine = new FakeEngine((p) => (p["name"] === "ram" ? { secret } : {}));
    await stackOn(engine, () => {
      const ram = new AlicloudRamAccessKey("ram", { userName: "alice" });
      new AlicloudKmsSecret("kms", { secretName: ram.id.apply((id) => `n-${id}`), secretData: ram.secret.apply((s) => `${s}!`), versionId: "v1" });
    }).preview();
    const kms = engine.registers().find((p) => p["name"] === "kms")!;
    assert.deepEqual(kms["inputs"]["secret_data"], want);
    assert.equal(kms["inputs"]["secret_name"], "n-id-ram");
    assert.deepEqual(kms["options"]["dependsOn"], ["ram"]);
  }
});

test("an apply callback that throws cancels the deployment instead of closing it", async () => {
  const engine = new FakeEngine();
  await assert.rejects(
    stackOn(engine, () => {
      const ram = new AlicloudRamAccessKey("ram", { userName: "alice" });
      new AlicloudKmsSecret("kms", { secretName: "x", secretData: ram.secret.required(), versionId: "v1" });
    }).up(),
    /ram\.secret has no value/,
  );
  assert.deepEqual(engine.calls.map((c) => c.method).slice(-1), ["engine.cancel"]);
});

test("a failed close prints what was done and throws the typed error", async () => {
  const engine = new FakeEngine();
  engine.closeError = errorFromReply({ code: -32012, message: "protected", data: { message: "kms is protected", plan: "DONE SO FAR" } });
  const out: string[] = [];
  await assert.rejects(stackOn(engine, () => {}, out).destroy(), ProtectedError);
  assert.deepEqual(out, ["DONE SO FAR\n"]);
  assert.deepEqual(engine.calls.map((c) => c.method), ["engine.open", "engine.close"]);
});

test("with CREDPLANE_ENGINE set, up registers into the given deployment over HTTP and does not open or close", async () => {
  const seen: { auth: string | undefined; body: Record<string, any> }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const msg = JSON.parse(body);
      seen.push({ auth: req.headers.authorization, body: msg });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { name: msg.params.name, id: "x", op: "create", outputs: {} } }));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const env = { CREDPLANE_ENGINE: `http://127.0.0.1:${(server.address() as { port: number }).port}`, CREDPLANE_ENGINE_TOKEN: "tok", CREDPLANE_DEPLOYMENT: "d-cli" };
  Object.assign(process.env, env);
  try {
    const plan = await new Stack("s", () => {
      new AwsIamAccessKey("a", { user: "alice" });
      new AwsIamAccessKey("b", { user: "bob" });
    }).up();
    assert.deepEqual(seen.map((s) => [s.body["method"], s.body["params"]["deployment"], s.auth]), [
      ["engine.register", "d-cli", "Bearer tok"],
      ["engine.register", "d-cli", "Bearer tok"],
    ]);
    assert.equal(plan.text, "");
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    server.close();
  }
});
