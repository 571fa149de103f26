#!/usr/bin/env python3
"""credplane quickstart: all five resource types on the sandbox.

Creates an AWS IAM access key, an OCI customer secret key, an OCI auth token, a RAM access key
and a KMS secret holding the RAM key's secret; prints the outputs (secrets masked); changes an
updatable field (the auth token's description), shows the diff, applies it; destroys everything.

Needs ``credplane serve --stdio --sandbox``: set CREDPLANE_BIN to the binary (default:
``credplane`` on PATH). See README.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile

from credplane.resources import (
    AlicloudKmsSecret,
    AlicloudKmsSecretArgs,
    AlicloudRamAccessKey,
    AlicloudRamAccessKeyArgs,
    AwsIamAccessKey,
    AwsIamAccessKeyArgs,
    OciIdentityAuthToken,
    OciIdentityAuthTokenArgs,
    OciIdentityCustomerSecretKey,
    OciIdentityCustomerSecretKeyArgs,
)
from credplane.runtime import Client, Stack

OCI_USER = "ocid1.user.oc1..aaaaaaaaalice"


def program(token_description: str) -> None:
    AwsIamAccessKey("aws-key", AwsIamAccessKeyArgs(user="alice"))
    OciIdentityCustomerSecretKey("oci-s3-key", OciIdentityCustomerSecretKeyArgs(display_name="quickstart", user_id=OCI_USER))
    OciIdentityAuthToken("oci-token", OciIdentityAuthTokenArgs(description=token_description, user_id=OCI_USER))
    ram = AlicloudRamAccessKey("ram-key", AlicloudRamAccessKeyArgs(user_name="alice"))
    # The RAM key's secret goes into KMS: the engine resolves the reference (and keeps it secret).
    AlicloudKmsSecret(
        "ram-key-secret",
        AlicloudKmsSecretArgs(secret_name="quickstart/ram-key", secret_data=ram.secret.required(), version_id="v1"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", help="state file (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="do not destroy at the end")
    args = parser.parse_args()
    if not os.environ.get("CREDPLANE_PASSPHRASE"):
        os.environ["CREDPLANE_PASSPHRASE"] = "quickstart-demo-passphrase"
        print("(CREDPLANE_PASSPHRASE not set: using a demo passphrase for the state)")
    state = args.state or os.path.join(tempfile.mkdtemp(prefix="credplane-quickstart-"), "state.json")

    description = {"value": "created by the quickstart"}
    client = Client.stdio(sandbox=True)
    stack = Stack("quickstart", lambda: program(description["value"]), state_path=state, client=client)
    try:
        print("\n### 1. preview")
        stack.preview()
        print("\n### 2. up")
        stack.up()
        print("\n### 3. outputs (secrets masked)")
        for name, r in stack.state().items():
            print(f"{r['type']} {name} (id {r['id']})")
            for k, v in sorted(r["outputs"].items()):
                if v is not None:
                    print(f"    {k} = {v}")  # a Secret prints as [secret]
        print("\n### 4. change the auth token's description: the diff")
        description["value"] = "rotated by the quickstart"
        plan = stack.preview()
        assert plan.ops()["oci-token"] == "update", plan.ops()
        print("\n### 5. apply it")
        stack.up()
        print("\n### 6. refresh (no drift expected)")
        stack.refresh()
        if not args.keep:
            print("\n### 7. destroy")
            stack.destroy()
        print(f"\nstate file: {state}")
    finally:
        client.close()


if __name__ == "__main__":
    main()
