from __future__ import annotations

import http.server
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import FAKE, USE_SANDBOX, provider_argv
from credplane.runtime import (
    CheckFailed,
    Client,
    CloudError,
    InvalidParams,
    PartiallyCreated,
    Secret,
    TransportError,
    UNKNOWN,
    provider_command,
)
from credplane.runtime.errors import MethodNotFound, error_from_reply

fake_only = pytest.mark.skipif(USE_SANDBOX, reason="needs the fake provider")


def test_check_fills_defaults_and_wraps_secrets(client: Client) -> None:
    r = client.check("alicloud_kms_secret", {"secret_name": "s", "secret_data": "x", "version_id": "v1"})
    assert r.failures == []
    assert r.inputs["secret_data"] == Secret("x")
    assert r.inputs["secret_type"] == "Generic"


def test_check_reports_failures(client: Client) -> None:
    r = client.check("aws_iam_access_key", {})
    assert [f.property for f in r.failures] == ["user"]


def test_check_unknown_passes_through(client: Client) -> None:
    r = client.check("aws_iam_access_key", {"user": UNKNOWN})
    assert r.inputs["user"] is UNKNOWN


def test_diff_kinds(client: Client) -> None:
    d = client.diff("aws_iam_access_key", "AKIA1", {"user": "alice", "status": "Active", "id": "AKIA1"}, {"user": "bob", "status": "Inactive"})
    assert d.changes and d.replaces == ["user"]
    assert d.detailed_diff == {"user": "update-replace", "status": "update"}


def test_unknown_type_is_invalid_params(client: Client) -> None:
    with pytest.raises(InvalidParams) as e:
        client.check("nope", {})
    assert e.value.code == -32602


@fake_only
def test_cloud_error_fields(client: Client) -> None:
    with pytest.raises(CloudError) as e:
        client.create("aws_iam_access_key", {"user": "mallory", "status": "Active"})
    assert e.value.cloud_code == "NoSuchEntity" and e.value.request_id == "req-404"
    assert e.value.retryable is False


@fake_only
def test_crud_round_trip(client: Client) -> None:
    created = client.create("aws_iam_access_key", {"user": "alice", "status": "Active"})
    assert created.id.startswith("AKIA") and isinstance(created.outputs["secret"], Secret)
    read = client.read("aws_iam_access_key", created.id)
    assert read is not None and read.outputs["secret"] == created.outputs["secret"]
    outs = client.update("aws_iam_access_key", created.id, created.outputs, {"user": "alice", "status": "Inactive"})
    assert outs["status"] == "Inactive"
    client.delete("aws_iam_access_key", created.id, outs)
    assert client.read("aws_iam_access_key", created.id) is None


def test_preview_create_has_unknowns(client: Client) -> None:
    r = client.create("aws_iam_access_key", {"user": "alice", "status": "Active"}, preview=True)
    assert r.outputs["secret"] is UNKNOWN and r.outputs["user"] == "alice"


def test_concurrent_calls_are_matched_by_id(client: Client) -> None:
    results: dict[int, Any] = {}

    def worker(i: int) -> None:
        results[i] = client.check("aws_iam_access_key", {"user": f"user{i}"}).inputs["user"]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: f"user{i}" for i in range(20)}


def test_dead_provider_raises_transport_error() -> None:
    c = Client.stdio(argv=[sys.executable, "-c", "import sys; sys.stderr.write('boom\\n')"], timeout=10)
    with pytest.raises(TransportError) as e:
        c.check("aws_iam_access_key", {"user": "alice"})
    c.close()
    assert "closed" in str(e.value) or "boom" in str(e.value)


def test_missing_binary() -> None:
    with pytest.raises(TransportError):
        provider_command("/nonexistent/credplane-xyz")
    with pytest.raises(TransportError):
        provider_command("credplane-definitely-not-on-path")


def test_provider_command_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDPLANE_BIN", f"{sys.executable} --version")
    assert provider_command(sandbox=True) == [sys.executable, "--version", "serve", "--stdio", "--sandbox"]
    monkeypatch.setenv("CREDPLANE_SANDBOX", "1")
    assert provider_command(sys.executable)[-1] == "--sandbox"


def test_error_mapping() -> None:
    e = error_from_reply({"code": -32004, "message": "m", "data": {"id": "x", "outputs": {"s": {"$credplane": "secret", "value": "v"}}, "retryable": False}})
    assert isinstance(e, PartiallyCreated) and e.id == "x" and e.outputs == {"s": Secret("v")}
    assert isinstance(error_from_reply({"code": -32601, "message": "m"}), MethodNotFound)
    f = error_from_reply({"code": -32602, "message": "bad", "data": {"failures": [{"property": "p", "reason": "r"}]}})
    assert f.failures[0].property == "p"
    assert "p: r" in str(CheckFailed(f.failures, "k1"))


@pytest.fixture
def http_server(cloud_file: Path) -> Iterator[str]:
    sys.path.insert(0, str(FAKE.parent))
    import fake_provider

    fake = fake_provider.Fake()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.headers.get("Authorization") != "Bearer tok":
                self.send_response(401)
                body = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"missing or wrong bearer token"}}'
            else:
                msg = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body = json.dumps(fake.handle(msg)).encode()
                self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_http_transport(http_server: str) -> None:
    c = Client.http(http_server, "tok")
    assert c.check("aws_iam_access_key", {"user": "alice"}).inputs["status"] == "Active"
    bad = Client.http(http_server, "wrong")
    with pytest.raises(Exception) as e:
        bad.check("aws_iam_access_key", {"user": "alice"})
    assert "bearer" in str(e.value)


REVERSER = r"""
import json, sys
pending = []
for line in sys.stdin:
    pending.append(json.loads(line))
    if len(pending) == 3:
        for msg in reversed(pending):
            sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {"inputs": msg["params"]["news"], "failures": []}}) + "\n")
        sys.stdout.flush()
        pending = []
"""


def test_out_of_order_replies_are_matched() -> None:
    c = Client.stdio(argv=[sys.executable, "-c", REVERSER], timeout=20)
    results: dict[int, Any] = {}

    def worker(i: int) -> None:
        results[i] = c.check("aws_iam_access_key", {"user": f"u{i}"}).inputs["user"]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.close()
    assert results == {0: "u0", 1: "u1", 2: "u2"}
