/**
 * credplane quickstart: all five resource types on the sandbox, with the generated typed classes.
 *
 * Creates an AWS IAM access key, an OCI customer secret key, an OCI auth token, a RAM access key
 * and a KMS secret holding the RAM key's secret; prints the outputs (secrets masked); changes an
 * updatable field (the auth token's description), shows the diff, applies it; destroys everything.
 *
 * Needs `credplane serve --stdio --sandbox`, whose engine plans, runs the steps and keeps the state:
 * CREDPLANE_BIN names the binary (default: `credplane` on PATH). Options: `--state PATH` (default: a temporary directory), `--keep` (do not destroy).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  AlicloudKmsSecret,
  AlicloudRamAccessKey,
  AwsIamAccessKey,
  Client,
  OciIdentityAuthToken,
  OciIdentityCustomerSecretKey,
  Secret,
  Stack,
} from "@credplane/sdk";

const OCI_USER = "ocid1.user.oc1..aaaaaaaaalice";

const NAMES = ["aws-key", "oci-s3-key", "oci-token", "ram-key", "ram-key-secret"];

/** How an output prints: secrets masked. */
function show(v: unknown): string {
  return v instanceof Secret ? String(v) : JSON.stringify(v);
}

export function program(tokenDescription: string): void {
  new AwsIamAccessKey("aws-key", { user: "alice" });
  new OciIdentityCustomerSecretKey("oci-s3-key", { displayName: "quickstart", userId: OCI_USER });
  new OciIdentityAuthToken("oci-token", { description: tokenDescription, userId: OCI_USER });
  const ram = new AlicloudRamAccessKey("ram-key", { userName: "alice" });
  // `secret` is optional (absent when a pgpKey is set, which is not the case here): `required()`.
  new AlicloudKmsSecret("ram-key-secret", { secretName: "quickstart/ram-key", secretData: ram.secret.required(), versionId: "v1" });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stateArg = args.indexOf("--state");
  const keep = args.includes("--keep");
  if (!process.env["CREDPLANE_PASSPHRASE"]) {
    process.env["CREDPLANE_PASSPHRASE"] = "quickstart-demo-passphrase";
    console.log("(CREDPLANE_PASSPHRASE not set: using a demo passphrase for the state)");
  }
  const state = stateArg >= 0 ? args[stateArg + 1]! : path.join(fs.mkdtempSync(path.join(os.tmpdir(), "credplane-quickstart-")), "state.json");

  let description = "created by the quickstart";
  const client = Client.stdio({ sandbox: true });
  const stack = new Stack("quickstart", () => program(description), { statePath: state, client });
  try {
    console.log("\n### 1. preview");
    await stack.preview();
    console.log("\n### 2. up");
    await stack.up();
    console.log("\n### 3. outputs (secrets masked)");
    for (const name of NAMES) {
      const outputs = stack.outputs(name);
      console.log(`${name} (id ${String(outputs["id"])})`);
      for (const k of Object.keys(outputs).sort()) {
        if (outputs[k] !== null && outputs[k] !== undefined) console.log(`    ${k} = ${show(outputs[k])}`);
      }
    }
    console.log("\n### 4. change the auth token's description: the diff");
    description = "rotated by the quickstart";
    const plan = await stack.preview();
    if (plan.ops()["oci-token"] !== "update") throw new Error(`expected an update of oci-token: ${JSON.stringify(plan.ops())}`);
    console.log("\n### 5. apply it");
    await stack.up();
    console.log("\n### 6. refresh (no drift expected)");
    await stack.refresh();
    if (!keep) {
      console.log("\n### 7. destroy");
      await stack.destroy();
    }
    console.log(`\nstate file: ${state}`);
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
