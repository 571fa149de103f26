#!/usr/bin/env python3
"""Zero-downtime key rotation, within the two-keys-per-user limit.

The stack holds one access key (``key-<n>``) and a KMS secret whose value is that key's id and
secret as JSON (``{"AccessKeyId": ..., "AccessKeySecret": ...}``).
A rotation declares ``key-<n+1>`` instead: ``up`` creates the new key (two keys exist for a
moment), stores its secret in the KMS secret as a new version (an in-place update), then deletes
the old key, which the program no longer declares. The user is back at one key.

Needs ``credplane serve --stdio --sandbox`` (CREDPLANE_BIN). See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile

from credplane.resources import (
    AlicloudKmsSecret,
    AlicloudKmsSecretArgs,
    AlicloudRamAccessKey,
    AlicloudRamAccessKeyArgs,
    AwsIamAccessKey,
    AwsIamAccessKeyArgs,
)
from credplane.runtime import Client, Output, Secret, Stack

KEY = re.compile(r"^key-(\d+)$")


def declare(cloud: str, generation: int) -> None:
    key: AwsIamAccessKey | AlicloudRamAccessKey
    if cloud == "aws":
        key = AwsIamAccessKey(f"key-{generation}", AwsIamAccessKeyArgs(user="alice"))
    else:
        key = AlicloudRamAccessKey(f"key-{generation}", AlicloudRamAccessKeyArgs(user_name="alice"))
    AlicloudKmsSecret(
        "current-key",
        AlicloudKmsSecretArgs(
            secret_name=f"rotation/{cloud}-alice",
            # The id and the secret of the key, as one JSON document; secret because the key's
            # secret is (an apply callback: the SDK waits for the key, then registers this).
            secret_data=Output.all(key.id, key.secret).apply(
                lambda v: Secret(json.dumps({"AccessKeyId": v[0], "AccessKeySecret": v[1]}))
            ),
            version_id=f"v{generation}",
            description=key.id.apply(lambda key_id: f"access key {key_id}"),
        ),
    )


def current_generation(stack: Stack) -> int:
    gens = [int(m.group(1)) for name in stack.state() if (m := KEY.match(name))]
    return max(gens, default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cloud", choices=["aws", "alicloud"], default="alicloud")
    parser.add_argument("--rotations", type=int, default=2)
    parser.add_argument("--state", help="state file (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="do not destroy at the end")
    args = parser.parse_args()
    if not os.environ.get("CREDPLANE_PASSPHRASE"):
        os.environ["CREDPLANE_PASSPHRASE"] = "rotation-demo-passphrase"
    state = args.state or os.path.join(tempfile.mkdtemp(prefix="credplane-rotate-"), "state.json")
    key_type = "aws_iam_access_key" if args.cloud == "aws" else "alicloud_ram_access_key"

    client = Client.stdio(sandbox=True)
    target = {"generation": 1}
    stack = Stack("rotation", lambda: declare(args.cloud, target["generation"]), state_path=state, client=client)
    try:
        target["generation"] = max(current_generation(stack), 1)
        print(f"### initial key (generation {target['generation']})")
        stack.up()
        for _ in range(args.rotations):
            target["generation"] = current_generation(stack) + 1
            print(f"\n### rotate to generation {target['generation']}")
            plan = stack.preview()
            assert plan.ops() == {f"key-{target['generation']}": "create", "current-key": "update", f"key-{target['generation'] - 1}": "delete"}, plan.ops()
            stack.up()
            keys = [(name, r) for name, r in stack.state().items() if r["type"] == key_type]
            assert len(keys) == 1, keys
            name, key = keys[0]
            stored = stack.outputs("current-key")["secret_data"]
            assert isinstance(stored, Secret)
            doc = json.loads(stored.value)
            assert doc["AccessKeyId"] == key["id"] and Secret(doc["AccessKeySecret"]) == key["outputs"]["secret"]
            print(f"KMS secret now holds {name} (id {key['id']}), value {stored}")
        if not args.keep:
            print("\n### destroy")
            stack.destroy()
    finally:
        client.close()


if __name__ == "__main__":
    main()
