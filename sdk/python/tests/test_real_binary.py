"""Wire compatibility with the real provider binary, for what it serves without a sandbox today:
check, diff, preview create/update, errors. Skipped when the binary is not built."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO
from credplane.runtime import UNKNOWN, Client, InvalidParams, Resource, RpcError, Secret, Stack

BIN = os.environ.get("CREDPLANE_BIN") or str(REPO / "target" / "debug" / "credplane")


@pytest.fixture
def real() -> Iterator[Client]:
    # Fail, never skip: CI builds the binary first (cargo build).
    assert Path(BIN.split()[0]).exists(), f"{BIN} not built: run cargo build"
    c = Client.stdio(BIN, sandbox=False, timeout=60)
    yield c
    c.close()


def test_check_and_secret_envelopes(real: Client) -> None:
    r = real.check("alicloud_kms_secret", {"secret_name": "s", "secret_data": "x", "version_id": "v1"})
    assert r.failures == [] and r.inputs["secret_data"] == Secret("x")
    bad = real.check("aws_iam_access_key", {})
    assert any(f.property == "user" for f in bad.failures)


def test_diff(real: Client) -> None:
    d = real.diff("aws_iam_access_key", "AKIA1", {"user": "alice", "status": "Active", "id": "AKIA1", "secret": Secret("z")}, {"user": "bob", "status": "Inactive"})
    assert d.replaces == ["user"] and d.detailed_diff == {"status": "update", "user": "update-replace"}


def test_preview_create_unknowns(real: Client) -> None:
    r = real.create("aws_iam_access_key", {"user": "alice", "status": "Active"}, preview=True)
    assert r.outputs["secret"] is UNKNOWN and r.outputs["user"] == "alice"


def test_unknown_type(real: Client) -> None:
    with pytest.raises(RpcError):
        real.check("nope", {})


def test_stack_preview_against_real_binary(real: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def program() -> None:
        key = Resource("alicloud_ram_access_key", "ram", {"user_name": "alice"})
        Resource("alicloud_kms_secret", "kms", {"secret_name": "app/ram", "secret_data": key._output("secret"), "version_id": "v1"})
        Resource("alicloud_kms_secret", "lit", {"secret_name": "lit", "secret_data": Secret("PLAINTEXT-LIT"), "version_id": "v1"})

    out = io.StringIO()
    plan = Stack("real", program, state_path=tmp_path / "s.json", client=real, out=out).preview()
    assert plan.ops() == {"ram": "create", "kms": "create", "lit": "create"}
    text = out.getvalue()
    assert "secret_data: (unknown)" in text and "secret_data: [secret]" in text and "PLAINTEXT-LIT" not in text


def test_http_transport_against_real_binary() -> None:
    import re
    import subprocess

    proc = subprocess.Popen([*BIN.split(), "serve", "--listen", "127.0.0.1:0"], env={**os.environ, "CREDPLANE_TOKEN": "tok-test-123"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        url = None
        for _ in range(20):
            line = proc.stdout.readline()
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                url = m.group(1)
                break
        assert url, "no listening line"
        c = Client.http(url, "tok-test-123", timeout=30)
        assert c.check("aws_iam_access_key", {"user": "alice"}).inputs["status"] == "Active"
        with pytest.raises(Exception, match="bearer"):
            Client.http(url, "wrong", timeout=30).check("aws_iam_access_key", {"user": "alice"})
    finally:
        proc.terminate()
        proc.wait(timeout=10)
