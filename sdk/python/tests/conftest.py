"""Shared fixtures: a provider client (the fake provider by default; the real binary with
``--sandbox`` when ``CREDPLANE_CONFORMANCE_SANDBOX=1``), a passphrase, a temp state path."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from credplane.runtime import Client, Stack, provider_command

HERE = Path(__file__).resolve().parent
FAKE = HERE / "fake_provider.py"
REPO = HERE.parents[2]
USE_SANDBOX = os.environ.get("CREDPLANE_CONFORMANCE_SANDBOX") == "1"


def provider_argv() -> list[str]:
    if USE_SANDBOX:
        if not os.environ.get("CREDPLANE_BIN"):
            built = REPO / "target" / "debug" / "credplane"
            if built.exists():
                return provider_command(str(built), sandbox=True)
        return provider_command(sandbox=True)
    return [sys.executable, str(FAKE)]


@pytest.fixture
def cloud_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake provider's clouds persist here, so they outlive one provider process."""
    path = tmp_path / "cloud.json"
    monkeypatch.setenv("FAKE_PROVIDER_CLOUD", str(path))
    return path


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CREDPLANE_PASSPHRASE", "correct horse battery staple")
    return "correct horse battery staple"


@pytest.fixture
def client(cloud_file: Path) -> Iterator[Client]:
    c = Client.stdio(argv=provider_argv(), timeout=60)
    yield c
    c.close()


@pytest.fixture
def make_stack(tmp_path: Path, cloud_file: Path, passphrase: str) -> Iterator[Callable[..., Stack]]:
    """make_stack(program, **kw) -> a Stack on a fresh provider process and tmp state."""
    stacks: list[Stack] = []

    def make(program: Callable[[], object] | None = None, **kw: object) -> Stack:
        kw.setdefault("state_path", str(tmp_path / "state.json"))
        kw.setdefault("scrypt_n", 2**12)
        kw.setdefault("client", Client.stdio(argv=provider_argv(), timeout=60))
        s = Stack("test", program, **kw)  # type: ignore[arg-type]
        stacks.append(s)
        return s

    yield make
    for s in stacks:
        if s._client is not None:
            s._client.close()
