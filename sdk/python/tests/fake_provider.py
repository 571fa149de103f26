#!/usr/bin/env python3
"""A fake credplane provider: JSON-RPC over stdio with in-memory (optionally file-backed) clouds.

It implements the same wire shapes as ``credplane serve --stdio``: check (defaults, required,
unknown properties, secret inputs wrapped), diff (from the x-forceNew / x-updatable flags of
``schema/resources/*.json``), and create/read/update/delete with generated ids and secret outputs.
Fixtures: user ``alice`` in AWS IAM and RAM, OCI user ``ocid1.user.oc1..aaaaaaaaalice``; at most
two access keys / tokens / customer secret keys per user.

Environment:
  FAKE_PROVIDER_CLOUD   JSON file holding the clouds, so they outlive the process (crash tests).
  FAKE_PROVIDER_FAULTS  JSON: {"partial_create": [type...], "die_after_create": [type...],
                         "fail_create": [type...], "delete_before_replace": [type...]}. die_after_create performs the create, saves
                         the cloud and exits without replying (a crash mid-call).
  FAKE_PROVIDER_LOG     append every request (method and type) as a JSON line to this file.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import sys
import threading
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(os.environ.get("FAKE_PROVIDER_SCHEMA_DIR") or Path(__file__).resolve().parents[3] / "schema" / "resources")
ENV = "$credplane"
USERS = {"aws": {"alice"}, "alicloud": {"alice"}, "oci": {"ocid1.user.oc1..aaaaaaaaalice"}}
USER_PROP = {
    "aws_iam_access_key": ("aws", "user"),
    "alicloud_ram_access_key": ("alicloud", "user_name"),
    "oci_identity_auth_token": ("oci", "user_id"),
    "oci_identity_customer_secret_key": ("oci", "user_id"),
}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.data = {"message": message, "retryable": False, **(data or {})}


def load_schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for f in sorted(SCHEMA_DIR.glob("*.json")):
        doc = json.loads(f.read_text())
        defs = doc["$defs"]
        inputs, outputs = defs["inputs"], defs["outputs"]
        out[doc["title"]] = {
            "inputs": inputs["properties"],
            "required": inputs.get("required", []),
            "outputs": outputs["properties"],
            "timeouts": doc.get("x-timeouts", {}),
        }
    return out


SCHEMAS = load_schemas()


def secret(v: Any) -> dict[str, Any]:
    return v if is_secret(v) else {ENV: "secret", "value": v}


def is_secret(v: Any) -> bool:
    return isinstance(v, dict) and v.get(ENV) == "secret"


def is_unknown(v: Any) -> bool:
    return isinstance(v, dict) and v.get(ENV) == "unknown"


def plain(v: Any) -> Any:
    return plain(v["value"]) if is_secret(v) else v


def rand(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


UP = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits


class Fake:
    def __init__(self) -> None:
        self.path = os.environ.get("FAKE_PROVIDER_CLOUD")
        self.faults = json.loads(os.environ.get("FAKE_PROVIDER_FAULTS") or "{}")
        self.lock = threading.Lock()
        self.cloud: dict[str, dict[str, Any]] = {t: {} for t in SCHEMAS}
        self.counter = 0
        if self.path and os.path.exists(self.path):
            doc = json.loads(Path(self.path).read_text())
            self.cloud.update(doc["cloud"])
            self.counter = doc["counter"]

    def persist(self) -> None:
        if self.path:
            tmp = self.path + ".tmp"
            Path(tmp).write_text(json.dumps({"cloud": self.cloud, "counter": self.counter}))
            os.replace(tmp, self.path)

    def schema(self, t: Any) -> dict[str, Any]:
        if t not in SCHEMAS:
            raise RpcError(-32602, f"unknown resource type {t!r}", {"failures": [{"property": "type", "reason": "unknown resource type"}]})
        return SCHEMAS[t]

    # --- methods ----------------------------------------------------------------------------

    def getSchema(self, p: dict[str, Any]) -> Any:
        return {"resources": {t: {"inputs": s["inputs"], "outputs": s["outputs"]} for t, s in SCHEMAS.items()}}

    def configure(self, p: dict[str, Any]) -> Any:
        return {}

    def cancel(self, p: dict[str, Any]) -> Any:
        return {}

    def check(self, p: dict[str, Any]) -> Any:
        s = self.schema(p.get("type"))
        news = p.get("news") or {}
        failures, inputs = [], {}
        for k, v in news.items():
            if k not in s["inputs"]:
                failures.append({"property": k, "reason": "unknown property"})
                continue
            if v is None:
                continue
            spec = s["inputs"][k]
            if spec.get("type") == "string" and not is_unknown(v) and not isinstance(plain(v), str):
                failures.append({"property": k, "reason": "expected a string"})
            inputs[k] = secret(v) if spec.get("x-secret") and not is_unknown(v) else v
        for k in s["required"]:
            if k not in inputs:
                failures.append({"property": k, "reason": "required"})
        for k, spec in s["inputs"].items():
            if k not in inputs and "default" in spec:
                inputs[k] = spec["default"]
        return {"inputs": inputs, "failures": failures}

    def diff(self, p: dict[str, Any]) -> Any:
        s = self.schema(p.get("type"))
        olds, news = p.get("olds") or {}, p.get("news") or {}
        ignore = set(p.get("ignoreChanges") or [])
        detailed, replaces, stables = {}, [], []
        for k, spec in s["inputs"].items():
            if k in ignore:
                continue
            o, n = olds.get(k), news.get(k)
            if is_unknown(n):
                kind = "update" if o is not None else "add"
            elif plain(o) == plain(n):
                stables.append(k)
                continue
            elif o is None:
                kind = "add"
            elif n is None:
                if spec.get("x-computed"):
                    stables.append(k)
                    continue
                kind = "delete"
            else:
                kind = "update"
            if spec.get("x-forceNew"):
                kind += "-replace"
                replaces.append(k)
            detailed[k] = {"kind": kind}
        dbr = bool(replaces) and p.get("type") in self.faults.get("delete_before_replace", [])
        return {"changes": bool(detailed), "replaces": replaces, "stables": stables, "deleteBeforeReplace": dbr, "detailedDiff": detailed}

    def _computed(self, t: str, inputs: dict[str, Any], rid: str) -> dict[str, Any]:
        now = "2026-01-01T00:00:00Z"
        if t == "aws_iam_access_key":
            return {"id": rid, "create_date": now, "secret": secret(rand(ALNUM, 40)), "ses_smtp_password_v4": secret(rand(ALNUM, 44)), "secrets_available": True, "status": inputs.get("status", "Active")}
        if t == "alicloud_ram_access_key":
            return {"id": rid, "create_time": now, "secret": secret(rand(ALNUM, 30)), "status": inputs.get("status") or "Active"}
        if t == "oci_identity_auth_token":
            return {"id": rid, "state": "ACTIVE", "time_created": now, "token": secret(rand(ALNUM, 20))}
        if t == "oci_identity_customer_secret_key":
            return {"id": rid, "state": "ACTIVE", "time_created": now, "key": secret(rand(ALNUM, 44))}
        if t == "alicloud_kms_secret":
            return {"id": rid, "create_time": now, "arn": f"acs:kms:cn-hangzhou:123456789:secret/{rid}"}
        return {"id": rid}

    def _new_id(self, t: str, inputs: dict[str, Any]) -> str:
        self.counter += 1
        if t == "aws_iam_access_key":
            return "AKIA" + rand(UP, 16)
        if t == "alicloud_ram_access_key":
            return "LTAI" + rand(ALNUM, 20)
        if t.startswith("oci_"):
            return "ocid1.credential.oc1.." + rand(string.ascii_lowercase + string.digits, 60)
        return str(plain(inputs["secret_name"]))

    def create(self, p: dict[str, Any]) -> Any:
        t = p.get("type")
        s = self.schema(t)
        inputs = dict(p.get("inputs") or {})
        if p.get("preview"):
            outs = dict(inputs)
            for k, spec in s["outputs"].items():
                if k not in outs and spec.get("x-computed"):
                    outs[k] = {ENV: "unknown"}
            return {"id": "", "outputs": outs}
        for k, v in inputs.items():
            if is_unknown(v):
                raise RpcError(-32602, f"{k} is unknown", {"failures": [{"property": k, "reason": "unknown value in a create"}]})
        if t in self.faults.get("fail_create", []):
            raise RpcError(-32001, "injected failure", {"cloudCode": "InjectedFailure", "requestId": "req-1", "retryable": True})
        if t in USER_PROP:
            cloud, prop = USER_PROP[t]
            user = plain(inputs.get(prop)) or "alice"
            if user not in USERS[cloud]:
                raise RpcError(-32001, f"user {user} not found", {"cloudCode": "NoSuchEntity", "requestId": "req-404"})
            count = sum(1 for r in self.cloud[t].values() if (plain(r.get(prop)) or "alice") == user)
            if count >= 2:
                raise RpcError(-32001, f"{user} already has 2 of {t}", {"cloudCode": "LimitExceeded", "requestId": "req-409"})
        if t == "alicloud_kms_secret" and str(plain(inputs["secret_name"])) in self.cloud[t]:
            raise RpcError(-32001, "secret exists", {"cloudCode": "Rejected.ResourceExist", "requestId": "req-409"})
        rid = self._new_id(t, inputs)
        outputs = {**inputs, **self._computed(t, inputs, rid)}
        self.cloud[t][rid] = outputs
        self.persist()
        if t in self.faults.get("die_after_create", []):
            os._exit(3)
        if t in self.faults.get("partial_create", []):
            raise RpcError(-32004, "created, but tagging failed", {"id": rid, "outputs": outputs, "retryable": False})
        return {"id": rid, "outputs": outputs}

    def read(self, p: dict[str, Any]) -> Any:
        t, rid = p.get("type"), str(p.get("id") or "")
        self.schema(t)
        found = self.cloud[t].get(rid)
        if found is None:
            return None
        inputs = {k: v for k, v in found.items() if k in SCHEMAS[t]["inputs"]}
        return {"id": rid, "inputs": inputs, "outputs": found}

    def update(self, p: dict[str, Any]) -> Any:
        t, rid = p.get("type"), str(p.get("id") or "")
        s = self.schema(t)
        news = p.get("news") or {}
        if p.get("preview"):
            return {"outputs": {**(p.get("olds") or {}), **news}}
        found = self.cloud[t].get(rid)
        if found is None:
            raise RpcError(-32001, f"{t} {rid} not found", {"cloudCode": "NotFound"})
        for k, spec in s["inputs"].items():
            if spec.get("x-updatable") and k in news:
                found[k] = news[k]
        self.persist()
        return {"outputs": found}

    def delete(self, p: dict[str, Any]) -> Any:
        t, rid = p.get("type"), str(p.get("id") or "")
        self.schema(t)
        self.cloud[t].pop(rid, None)
        self.persist()
        return {}

    def handle(self, msg: Any) -> dict[str, Any] | None:
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0" or not isinstance(msg.get("method"), str):
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        mid = msg.get("id")
        method = msg["method"].replace("rpc.discover", "getSchema")
        fn = getattr(self, method, None) if method in {"getSchema", "configure", "cancel", "check", "diff", "create", "read", "update", "delete"} else None
        log = os.environ.get("FAKE_PROVIDER_LOG")
        if log:
            with open(log, "a") as f:
                f.write(json.dumps({"method": msg["method"], "type": (msg.get("params") or {}).get("type"), "preview": bool((msg.get("params") or {}).get("preview")), "timeoutSeconds": (msg.get("params") or {}).get("timeoutSeconds")}) + "\n")
        if fn is None:
            return {"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"no method {msg['method']}"}}
        try:
            with self.lock:
                result = fn(msg.get("params") or {})
            return {"jsonrpc": "2.0", "id": mid, "result": result}
        except RpcError as e:
            return {"jsonrpc": "2.0", "id": mid, "error": {"code": e.code, "message": e.message, "data": e.data}}


def main() -> None:
    fake = Fake()
    out_lock = threading.Lock()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            reply: Any = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
        else:
            reply = fake.handle(msg)
        with out_lock:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
