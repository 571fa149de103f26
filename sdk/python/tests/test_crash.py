"""kill -9 of the engine in the middle of an `up`, then `up` again: the journal replays, the
interrupted creates are reconciled by name, nothing is duplicated (KMS refuses a second secret of
the same name, so a duplicate create would fail the second `up`) and nothing is orphaned."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import BIN
from credplane.resources import AlicloudKmsSecret, AlicloudKmsSecretArgs
from credplane.runtime import Client, Stack, TransportError, provider_command

N = 400


@pytest.fixture
def cloud() -> Iterator[dict[str, Any]]:
    """A sandbox in a process of its own, so it outlives the engine we kill."""
    proc = subprocess.Popen([BIN, "sandbox", "--listen", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    settings: dict[str, Any] = {}
    for line in proc.stderr:
        if line.startswith("provider settings: "):
            settings = json.loads(line.split(": ", 1)[1])
            break
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    yield settings
    proc.kill()
    proc.wait()


def program() -> None:
    for i in range(N):
        AlicloudKmsSecret(f"s{i}", AlicloudKmsSecretArgs(secret_name=f"crash/s{i}", version_id="v1", secret_data=f"v{i}"))


def test_kill_9_mid_up_then_up_again(cloud: dict[str, Any], tmp_path: Path, passphrase: str) -> None:
    state = str(tmp_path / "state.json")
    engine = Client(provider_command(BIN, sandbox=False))
    st = Stack("crash", program, state_path=state, client=engine, config=cloud, out=None, parallelism=4)
    failure: list[BaseException] = []
    worker = threading.Thread(target=lambda: failure.extend(_catch(st.up)))
    worker.start()
    journal = Path(state + ".journal")
    deadline = time.monotonic() + 60
    while (not journal.exists() or journal.stat().st_size < 20_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine._proc is not None
    engine._proc.kill()  # SIGKILL: no chance to compact or unlock
    worker.join(30)
    assert failure and isinstance(failure[0], TransportError), failure
    assert journal.stat().st_size > 0, "the journal must survive the kill"

    again = Client(provider_command(BIN, sandbox=False))
    try:
        st2 = Stack("crash", program, state_path=state, client=again, config=cloud, out=None)
        plan = st2.up()  # a duplicate create of any name would fail here
        assert sorted(st2.state()) == sorted(f"s{i}" for i in range(N))
        assert all(r["id"] == f"crash/{n}" for n, r in st2.state().items())
        assert plan.summary["create"] < N, "some creates of the killed run must have been kept"
        assert not journal.exists(), "the journal is compacted into the snapshot at the end"
        assert st2.destroy().summary["delete"] == N
    finally:
        again.close()
        engine.close()


def _catch(fn: Any) -> list[BaseException]:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001
        return [exc]
    return []
