#!/usr/bin/env python3
"""The credplane protocol by example, with nothing but the standard library.

Starts `credplane serve --stdio --sandbox` (emulated clouds, no account needed), then for one
resource type: check → preview → create → diff → update → read → delete → read again.
Secret values are printed masked.
"""
import itertools
import json
import os
import subprocess
import sys

BIN = os.environ.get("CREDPLANE_BIN", "credplane")


class Provider:
    def __init__(self) -> None:
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self.proc = subprocess.Popen(
            [BIN, "serve", "--stdio", "--sandbox"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self.ids = itertools.count(1)

    def call(self, method: str, params: dict) -> object:
        request_id = next(self.ids)
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        assert reply["id"] == request_id
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']['code']} {reply['error']['message']}")
        return reply["result"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def masked(value: object) -> object:
    if isinstance(value, dict):
        if value.get("$credplane") == "secret":
            return "[secret]"
        if value.get("$credplane") == "unknown":
            return "(unknown)"
        return {k: masked(v) for k, v in value.items()}
    return value


def show(title: str, value: object) -> None:
    print(f"--- {title}\n{json.dumps(masked(value), indent=2)}")


def main() -> int:
    p = Provider()
    try:
        kind = "aws_iam_access_key"
        types = sorted(p.call("getSchema", {})["resources"])
        show("resource types", types)
        checked = p.call("check", {"type": kind, "news": {"user": "alice"}})
        show("check", checked)
        show("preview", p.call("create", {"type": kind, "inputs": checked["inputs"], "preview": True}))
        created = p.call("create", {"type": kind, "inputs": checked["inputs"]})
        show("create", created)
        news = p.call("check", {"type": kind, "news": {"user": "alice", "status": "Inactive"}})["inputs"]
        show("diff", p.call("diff", {"type": kind, "id": created["id"], "olds": created["outputs"], "news": news}))
        updated = p.call("update", {"type": kind, "id": created["id"], "olds": created["outputs"], "news": news})
        show("update", updated)
        show("read", p.call("read", {"type": kind, "id": created["id"], "outputs": updated["outputs"]}))
        p.call("delete", {"type": kind, "id": created["id"], "outputs": updated["outputs"]})
        show("read after delete", p.call("read", {"type": kind, "id": created["id"], "outputs": updated["outputs"]}))
    finally:
        p.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
