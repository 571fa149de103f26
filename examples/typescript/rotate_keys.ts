/**
 * Zero-downtime key rotation, within the two-keys-per-user limit.
 *
 * The stack holds one access key (`key-<n>`) and a KMS secret whose value is that key's id and
 * secret as JSON (`{"AccessKeyId": ..., "AccessKeySecret": ...}`). A rotation declares
 * `key-<n+1>` instead: `up` creates the new key (two keys exist for a moment), stores its secret
 * in the KMS secret as a new version (an in-place update), then deletes the old key, which the
 * program no longer declares. The user is back at one key.
 *
 * Options: `--cloud aws|alicloud` (default alicloud), `--rotations N` (default 2), `--state PATH`,
 * `--keep`. Needs `credplane serve --stdio --sandbox` (CREDPLANE_BIN).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { AlicloudKmsSecret, AlicloudRamAccessKey, AwsIamAccessKey, Client, Output, Secret, Stack, StateError } from "@credplane/sdk";

const KEY = /^key-(\d+)$/;

export function declare(cloud: string, generation: number): void {
  const key =
    cloud === "aws"
      ? new AwsIamAccessKey(`key-${generation}`, { user: "alice" })
      : new AlicloudRamAccessKey(`key-${generation}`, { userName: "alice" });
  new AlicloudKmsSecret("current-key", {
    secretName: `rotation/${cloud}-alice`,
    // The id and the secret of the key, as one JSON document; secret because the key's secret is.
    secretData: Output.all(key.id, key.secret).apply(([id, secret]) => JSON.stringify({ AccessKeyId: id, AccessKeySecret: secret })),
    versionId: `v${generation}`,
    description: key.id.apply((id) => `access key ${id}`),
  });
}

/** The generation of the newest key in the stored state (engine.export; secrets stay sealed). */
async function currentGeneration(stack: Stack): Promise<number> {
  const doc = await stack.export().catch((e: unknown) => {
    if (e instanceof StateError && /no state/.test(e.message)) return {}; // a new stack
    throw e;
  });
  const stored = ((doc as Record<string, unknown>)["resources"] ?? []) as { name: string }[];
  const gens = stored
    .map((r) => KEY.exec(r.name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  return gens.length > 0 ? Math.max(...gens) : 0;
}

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const cloud = option(args, "--cloud", "alicloud");
  if (cloud !== "aws" && cloud !== "alicloud") throw new Error("--cloud is aws or alicloud");
  const rotations = Number(option(args, "--rotations", "2"));
  const keep = args.includes("--keep");
  if (!process.env["CREDPLANE_PASSPHRASE"]) process.env["CREDPLANE_PASSPHRASE"] = "rotation-demo-passphrase";
  const state = option(args, "--state", path.join(fs.mkdtempSync(path.join(os.tmpdir(), "credplane-rotate-")), "state.json"));
  const keyType = cloud === "aws" ? AwsIamAccessKey.TYPE : AlicloudRamAccessKey.TYPE;

  const client = Client.stdio({ sandbox: true });
  let generation = 1;
  const stack = new Stack("rotation", () => declare(cloud, generation), { statePath: state, client });
  try {
    generation = Math.max(await currentGeneration(stack), 1);
    console.log(`### initial key (generation ${generation})`);
    await stack.up();
    for (let i = 0; i < rotations; i++) {
      generation = (await currentGeneration(stack)) + 1;
      console.log(`\n### rotate to generation ${generation}`);
      const plan = await stack.preview();
      const want = { [`key-${generation}`]: "create", "current-key": "update", [`key-${generation - 1}`]: "delete" };
      const ops = plan.ops();
      if (JSON.stringify(Object.entries(ops).sort()) !== JSON.stringify(Object.entries(want).sort())) {
        throw new Error(`unexpected plan ${JSON.stringify(ops)}`);
      }
      await stack.up();
      const keys = Object.entries(stack.state())
        .filter(([, r]) => r.type === keyType)
        .map(([name, r]) => ({ name, id: r.id }));
      if (keys.length !== 1) throw new Error(`expected one key, found ${keys.map((k) => k.name).join(", ")}`);
      const stored = stack.outputs("current-key")["secret_data"];
      if (!(stored instanceof Secret)) throw new Error("the KMS secret's value is not a secret");
      const doc = JSON.parse(stored.value as string) as { AccessKeyId: string; AccessKeySecret: string };
      const secret = stack.outputs(keys[0]!.name)["secret"];
      if (doc.AccessKeyId !== keys[0]!.id || !(secret instanceof Secret) || doc.AccessKeySecret !== secret.value) {
        throw new Error("the KMS secret does not hold the current key");
      }
      console.log(`KMS secret now holds ${keys[0]!.name} (id ${keys[0]!.id}), value ${String(stored)}`);
    }
    if (!keep) {
      console.log("\n### destroy");
      await stack.destroy();
    }
  } finally {
    await client.close();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
