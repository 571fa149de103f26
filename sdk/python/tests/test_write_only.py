"""A write-only input (``x-writeOnly``, here ``secret_data_wo``) reaches the cloud through the real
binary, its engine and its sandbox, and never lands in the stack's state (snapshot or journal),
not even sealed: the property is not there at all."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from credplane.runtime import Resource, Secret, Stack

VALUE = "write-only-9f31c7"


def _state_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file())


def test_write_only_value_is_never_saved(tmp_path: Path, make_stack: Callable[..., Stack]) -> None:
    version = {"n": 1}

    def program() -> None:
        Resource("alicloud_kms_secret", "wo", {"secret_name": "wo", "version_id": f"v{version['n']}",
                                               "secret_data_wo": Secret(VALUE + str(version["n"])),
                                               "secret_data_wo_version": version["n"]})

    stack = make_stack(program, state_path=str(tmp_path / "state.json"))
    stack.up()
    saved = _state_bytes(tmp_path)
    assert saved, "the engine wrote no state"
    assert b"secret_data_wo_version" in saved  # the version is kept, to notice a change
    assert b'"secret_data_wo"' not in saved and VALUE.encode() not in saved
    version["n"] = 2
    plan = stack.up()
    saved = _state_bytes(tmp_path)
    assert b'"secret_data_wo"' not in saved and VALUE.encode() not in saved
    assert "wo" in str(plan)
    stack.destroy()
