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

import {
  AlicloudKmsSecretArgs,
  AwsIamAccessKey,
  AwsIamAccessKeyArgs,
  AwsIamAccessKeyState,
  Client,
  InvalidParamsError,
  InvalidRequestError,
  KeyStatus,
  Output,
  Secret,
  Stack,
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

test("resources leave Output references in place", () => {
  const stack = new Stack();
  const key = new AwsIamAccessKey("k", { user: "alice" }, { stack });
  const other = new AwsIamAccessKey("k2", { user: key.user }, { stack, dependsOn: [key] });
  const ref = other.inputs["user"];
  assert.ok(ref instanceof Output);
  assert.equal(ref.resource, key);
  assert.equal(ref.property, "user");
  assert.equal(stack.resources.length, 2);
  assert.equal(AwsIamAccessKey.TYPE, "aws_iam_access_key");
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

test("check and getSchema against the binary over stdio", async () => {
  const client = Client.stdio({ binary: BIN });
  try {
    const [schema, ok, bad] = await Promise.all([
      client.getSchema(),
      client.check({ type: "aws_iam_access_key", news: AwsIamAccessKeyArgs.toWire({ user: "alice" }) }),
      client.check({ type: "aws_iam_access_key", news: { user: 5 } }),
    ]);
    assert.ok("aws_iam_access_key" in schema.resources);
    assert.deepEqual(ok.failures, []);
    assert.equal(ok.inputs["status"], "Active");
    assert.equal(bad.failures[0]?.property, "user");
    await assert.rejects(client.check({ type: "nope", news: {} }), (e: unknown) => {
      assert.ok(e instanceof InvalidParamsError);
      assert.equal(e.code, -32602);
      assert.equal(e.failures[0]?.property, "type");
      return true;
    });
  } finally {
    await client.close();
  }
});

test("create with preview decodes unknowns to undefined", async () => {
  const client = Client.stdio({ binary: BIN });
  try {
    const res = await client.create({
      type: AwsIamAccessKey.TYPE,
      inputs: AwsIamAccessKeyArgs.toWire({ user: "alice" }),
      preview: true,
    });
    const st = AwsIamAccessKeyState.fromWire(res.outputs);
    assert.equal(st.user, "alice");
    assert.equal(st.status, KeyStatus.Active);
    assert.equal(st.secret, undefined);
    assert.equal(st.id, undefined);
  } finally {
    await client.close();
  }
});

test("check over HTTP with a bearer token; a wrong token is refused", async () => {
  const token = "test-token-" + process.pid;
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
    const ok = await Client.http(url, token).check({ type: AwsIamAccessKey.TYPE, news: { user: "alice" } });
    assert.deepEqual(ok.failures, []);
    await assert.rejects(Client.http(url, "wrong").getSchema(), InvalidRequestError);
  } finally {
    server.kill();
    await once(server, "exit");
  }
});

test("Output.required() keeps secrets and refuses an absent value", async () => {
  const { collecting, resolveOutputs } = await import("../src/runtime/output");
  let key!: AwsIamAccessKey;
  collecting(() => {
    key = new AwsIamAccessKey("k", { user: "alice" });
  });
  const required = key.secret.required();
  assert.deepEqual(resolveOutputs(required, () => new Secret("s")), new Secret("s"));
  assert.throws(() => resolveOutputs(required, () => undefined), /k\.secret has no value/);
});
