"""Runs examples/python/*.py end to end against the provider (fake by default)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, provider_argv

EXAMPLES = REPO / "examples" / "python"


@pytest.mark.parametrize("script,args", [("quickstart.py", []), ("rotate_keys.py", ["--cloud", "alicloud"]), ("rotate_keys.py", ["--cloud", "aws"])])
def test_example(script: str, args: list[str], tmp_path: Path) -> None:
    env = dict(os.environ)
    argv = provider_argv()
    if "--sandbox" in argv:
        argv.remove("--sandbox")
    env["CREDPLANE_BIN"] = shlex.join(argv)
    env["CREDPLANE_PASSPHRASE"] = "example-test"
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--state", str(tmp_path / "state.json"), *args],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[secret]" in proc.stdout
    assert "Destroyed stack" in proc.stdout
