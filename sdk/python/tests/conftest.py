"""Shared fixtures: the real ``credplane`` (CREDPLANE_BIN or target/debug/credplane) serving the
engine with its in-process cloud sandbox, a passphrase, and stacks on a temp state."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from credplane.runtime import Client, Stack, provider_command

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
BIN = os.environ.get("CREDPLANE_BIN") or str(REPO / "target" / "debug" / "credplane")


def provider_argv() -> list[str]:
    # Fail, never skip: CI builds the binary first (cargo build).
    assert Path(BIN.split()[0]).exists(), f"{BIN} not built: run cargo build"
    return provider_command(BIN, sandbox=True)


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CREDPLANE_PASSPHRASE", "correct horse battery staple")
    return "correct horse battery staple"


@pytest.fixture
def client() -> Iterator[Client]:
    c = Client(provider_argv())
    yield c
    c.close()


@pytest.fixture
def make_stack(tmp_path: Path, client: Client, passphrase: str) -> Callable[..., Stack]:
    """make_stack(program, **kw) -> a Stack on the shared engine process and a tmp state."""

    def make(program: Callable[[], object] | None = None, **kw: object) -> Stack:
        kw.setdefault("state_path", str(tmp_path / "state.json"))
        kw.setdefault("client", client)
        kw.setdefault("out", None)
        return Stack(str(kw.pop("name", "test")), program, **kw)  # type: ignore[arg-type]

    return make
