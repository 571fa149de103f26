"""A write-only input (``x-writeOnly``, here ``secret_data_wo``) reaches the cloud through the real
binary and its sandbox, and never lands in the state file, even encrypted."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from test_real_binary import BIN
from credplane.runtime import Client, Resource, Secret, Stack

VALUE = "write-only-9f31c7"


def test_write_only_value_is_never_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Path(BIN.split()[0]).exists(), f"{BIN} not built: run cargo build"
    monkeypatch.setenv("CREDPLANE_PASSPHRASE", "write-only test passphrase")
    client = Client.stdio(BIN, sandbox=True, timeout=60)
    try:
        version = {"n": 1}

        def program() -> None:
            Resource("alicloud_kms_secret", "wo", {"secret_name": "wo", "version_id": f"v{version['n']}",
                                                   "secret_data_wo": Secret(VALUE + str(version["n"])),
                                                   "secret_data_wo_version": version["n"]})

        state_path = tmp_path / "state.json"
        stack = Stack("wo", program, state_path=state_path, client=client, out=io.StringIO())
        stack.up()
        saved = json.loads(state_path.read_text())
        inputs = saved["resources"][0]["inputs"]
        assert "secret_data_wo" not in inputs and inputs["secret_data_wo_version"] == 1
        version["n"] = 2
        stack.up()
        inputs = json.loads(state_path.read_text())["resources"][0]["inputs"]
        assert "secret_data_wo" not in inputs and inputs["secret_data_wo_version"] == 2
        stack.destroy()
    finally:
        client.close()
