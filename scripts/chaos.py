#!/usr/bin/env python3
"""Chaos harness (issue 10): many creates across the five resource types against a faulty sandbox,
from several concurrent clients sharing the same users, then everything deleted.

It starts `credplane sandbox` with 20 % throttling, 5 % 5xx and 5 % lost replies, and C clients,
each a `credplane serve --stdio` configured at the sandbox. Each client creates and at once deletes
credentials, round-robin over the types and over the sandbox's own users (shared by all clients).

From the sandbox's own state (`GET /_sandbox/state`) it counts:
- orphans: credentials that exist at the end, did not exist at the start, and that no client
  learned of (ids reported as a partial result's `data.id` or in `data.candidates` count as learned);
- foreign deletions: credentials a client was given that vanished before that client deleted them;
and the errors by JSON-RPC code. Its last stdout line is one JSON object:
{"chaos_creates":N,"chaos_orphans":X,"chaos_foreign_deletions":Y,"chaos_errors_by_code":{...}}
Exit status 1 when a count that must be 0 is not. Standard library only.
"""

import argparse
import collections
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request

TYPES = [
    "aws_iam_access_key",
    "alicloud_ram_access_key",
    "oci_identity_auth_token",
    "oci_identity_customer_secret_key",
    "alicloud_kms_secret",
]


# How many credentials each client holds before deleting the oldest.
HELD = 3


def binary():
    return os.environ.get("CREDPLANE_BIN", "target/debug/credplane")


class Sandbox:
    """`credplane sandbox` on a free loopback port, with the fault rates of the issue."""

    def __init__(self):
        self.token = os.environ.get("CREDPLANE_SANDBOX_TOKEN") or secrets.token_hex(24)
        env = dict(os.environ, CREDPLANE_SANDBOX_TOKEN=self.token)
        self.proc = subprocess.Popen(
            [binary(), "sandbox", "--listen", "127.0.0.1:0",
             "--throttle-rate", "0.2", "--error-rate", "0.05", "--drop-rate", "0.05"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.url = None
        self.settings = None
        deadline = time.time() + 60
        while time.time() < deadline and (self.url is None or self.settings is None):
            line = self.proc.stderr.readline()
            if not line:
                raise SystemExit("chaos: the sandbox exited before it was ready")
            if m := re.search(r"listening on (\S+)", line):
                self.url = m.group(1).rstrip("/")
            elif line.startswith("provider settings: "):
                self.settings = json.loads(line[len("provider settings: "):])
        # Keep draining stderr so that the sandbox never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def admin(self, path):
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def credential_ids(state):
    """The ids of every credential in the sandbox state: keys, tokens, secret keys, secrets."""
    ids = set()
    for user in state.get("aws-iam", {}).get("users", {}).values():
        ids.update(k["access_key_id"] for k in user.get("keys", []))
    for user in state.get("alicloud-ram", {}).get("users", {}).values():
        ids.update(k["id"] for k in user.get("keys", []))
    ids.update(state.get("alicloud-kms", {}).get("secrets", {}).keys())
    for cid, c in state.get("oci-identity", {}).get("credentials", {}).items():
        if c.get("lifecycle_state") not in ("DELETING", "DELETED"):
            ids.add(cid)
    return ids


class Client:
    """One `credplane serve --stdio`, one request at a time."""

    def __init__(self, settings):
        self.proc = subprocess.Popen([binary(), "serve", "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.next_id = 0
        self.call("configure", settings)

    def call(self, method, params):
        self.next_id += 1
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                          "params": params}) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        return reply.get("result"), reply.get("error")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def inputs_for(type_name, users, n, client):
    if type_name == "aws_iam_access_key":
        return {"user": users["aws"][n % len(users["aws"])]}
    if type_name == "alicloud_ram_access_key":
        return {"user_name": users["ram"][n % len(users["ram"])]}
    if type_name == "oci_identity_auth_token":
        return {"user_id": users["oci"][n % len(users["oci"])], "description": "chaos"}
    if type_name == "oci_identity_customer_secret_key":
        return {"user_id": users["oci"][n % len(users["oci"])], "display_name": "chaos"}
    return {"secret_name": f"chaos-{client}-{n}", "secret_data": {"$credplane": "secret", "value": "s3cr3t"},
            "version_id": "v1"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    sandbox = Sandbox()
    try:
        before = sandbox.admin("/_sandbox/state")
        users = {
            "aws": sorted(before.get("aws-iam", {}).get("users", {}).keys()),
            "ram": sorted(before.get("alicloud-ram", {}).get("users", {}).keys()),
            "oci": sorted(before.get("oci-identity", {}).get("users", {}).keys()),
        }
        baseline = credential_ids(before)
        learned = set()
        foreign = []
        errors = collections.Counter()
        lock = threading.Lock()
        counter = iter(range(args.creates))

        def release(client, held):
            """Deletes the credential held longest, after checking that nobody else deleted it."""
            type_name, rid, outputs = held.popleft()
            if rid not in credential_ids(sandbox.admin("/_sandbox/state")):
                with lock:
                    foreign.append({"type": type_name, "id": rid})
            _, error = client.call("delete", {"type": type_name, "id": rid, "outputs": outputs})
            if error is not None:
                with lock:
                    errors[str(error["code"])] += 1

        def work(client_no):
            client = Client(sandbox.settings)
            # Each client holds a few credentials for a while (the per-user limit is 2, so not
            # many), so that a reconciliation by another client has time to delete one wrongly.
            held = collections.deque()
            try:
                while True:
                    with lock:
                        n = next(counter, None)
                    if n is None:
                        break
                    type_name = TYPES[n % len(TYPES)]
                    inputs = inputs_for(type_name, users, n // len(TYPES), client_no)
                    result, error = client.call("create", {"type": type_name, "inputs": inputs})
                    if os.environ.get("CHAOS_TRACE"):
                        print(f"trace: client {client_no} create {type_name} {inputs} -> "
                              f"{(result or {}).get('id')} {json.dumps(error)}", file=sys.stderr)
                    if error is not None:
                        data = error.get("data") or {}
                        with lock:
                            errors[str(error["code"])] += 1
                            learned.update(data.get("candidates") or [])
                        if not data.get("id"):
                            continue
                        rid, outputs = data["id"], data.get("outputs") or {}
                    else:
                        rid, outputs = result["id"], result["outputs"]
                    with lock:
                        learned.add(rid)
                    held.append((type_name, rid, outputs))
                    if len(held) > HELD:
                        release(client, held)
                while held:
                    release(client, held)
            finally:
                client.close()

        threads = [threading.Thread(target=work, args=(c,)) for c in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        after = credential_ids(sandbox.admin("/_sandbox/state"))
        orphans = sorted(after - baseline - learned)
    finally:
        sandbox.close()

    for o in orphans:
        print(f"orphan: {o}")
    for f in foreign:
        print(f"foreign deletion: {f['type']} {f['id']}")
    report = {
        "chaos_creates": args.creates,
        "chaos_orphans": len(orphans),
        "chaos_foreign_deletions": len(foreign),
        "chaos_errors_by_code": dict(sorted(errors.items())),
    }
    print(json.dumps(report, separators=(",", ":")))
    return 1 if orphans or foreign else 0


if __name__ == "__main__":
    sys.exit(main())
