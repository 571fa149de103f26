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


def test_examples_and_the_quickstart_use_the_typed_classes_only() -> None:
    """Issue 9 item 9: no untyped ``Resource(...)`` and no private ``_output`` in what users copy."""
    import re

    texts = [REPO / "README.md", REPO / "scripts" / "quickstart.sh", REPO / "sdk" / "python" / "README.md"]
    texts += [p for p in (REPO / "examples").rglob("*") if p.suffix in (".py", ".ts", ".go", ".md", ".sh")
              and "node_modules" not in p.parts]
    untyped = re.compile(r"(?<![A-Za-z_.])Resource\(|\._output\(|new Resource\(|runtime\.NewResource\(")
    found = [f"{p.relative_to(REPO)}:{n}: {line.strip()}" for p in texts for n, line in enumerate(p.read_text().splitlines(), 1)
             if untyped.search(line) and not line.startswith("|")]  # API tables name the base class
    assert not found, "untyped resources in examples:\n" + "\n".join(found)
