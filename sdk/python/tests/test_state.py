from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from credplane.runtime import PassphraseRequired, ResourceState, Secret, StackState, StateError, StateFile
from credplane.runtime import state as state_mod

PLAIN = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def sample() -> StackState:
    s = StackState("dev")
    s.put(ResourceState("aws_iam_access_key", "k1", "AKIA1", {"user": "alice"}, {"id": "AKIA1", "secret": Secret(PLAIN), "nested": {"a": [Secret({"b": PLAIN})]}}))
    return s


def test_round_trip_and_no_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    f = StateFile(path, "pw", scrypt_n=2**12)
    f.save(sample())
    text = path.read_text()
    assert PLAIN not in text
    assert '"ciphertext"' in text and '"AES-256-GCM"' in text
    loaded = StateFile(path, "pw").load("dev")
    r = loaded.get("k1")
    assert r is not None and r.outputs["secret"] == Secret(PLAIN)
    assert r.outputs["nested"] == {"a": [Secret({"b": PLAIN})]}


def test_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    os.umask(0o022)
    StateFile(path, "pw", scrypt_n=2**12).save(sample())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_fresh_salt_per_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    StateFile(a, "pw", scrypt_n=2**12).save(sample())
    StateFile(b, "pw", scrypt_n=2**12).save(sample())
    assert json.loads(a.read_text())["encryption"]["salt"] != json.loads(b.read_text())["encryption"]["salt"]


def test_passphrase_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDPLANE_PASSPHRASE", raising=False)
    path = tmp_path / "s.json"
    with pytest.raises(PassphraseRequired):
        StateFile(path).save(sample())
    assert not path.exists()
    StateFile(path, "pw", scrypt_n=2**12).save(sample())
    with pytest.raises(PassphraseRequired):
        StateFile(path).load("dev")
    monkeypatch.setenv("CREDPLANE_PASSPHRASE", "pw")
    assert StateFile(path).load("dev").get("k1") is not None


def test_no_secrets_no_passphrase_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDPLANE_PASSPHRASE", raising=False)
    s = StackState("dev")
    s.put(ResourceState("aws_iam_access_key", "k1", "AKIA1", {"user": "alice"}, {"id": "AKIA1"}))
    StateFile(tmp_path / "s.json").save(s)
    assert StateFile(tmp_path / "s.json").load("dev").get("k1") is not None


def test_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    StateFile(path, "pw", scrypt_n=2**12).save(sample())
    with pytest.raises(StateError, match="wrong"):
        StateFile(path, "nope").load("dev")


def test_tampering_detected(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    StateFile(path, "pw", scrypt_n=2**12).save(sample())
    doc = json.loads(path.read_text())
    ct = doc["resources"][0]["outputs"]["secret"]["ciphertext"]
    doc["resources"][0]["outputs"]["secret"]["ciphertext"] = ct[:-6] + ("AAAA==" if not ct.endswith("AAAA==") else "BBBB==")
    path.write_text(json.dumps(doc))
    with pytest.raises(StateError):
        StateFile(path, "pw").load("dev")


def test_plaintext_envelope_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"version": 1, "stack": "dev", "encryption": None, "resources": [
        {"type": "t", "name": "n", "id": "i", "inputs": {}, "outputs": {"s": {"$credplane": "secret", "value": "x"}}}]}))
    with pytest.raises(StateError, match="plaintext"):
        StateFile(path, "pw").load("dev")


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    f = StateFile(path, "pw", scrypt_n=2**12)
    f.save(sample())
    before = path.read_bytes()

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(state_mod.os, "replace", boom)
    s = sample()
    s.put(ResourceState("aws_iam_access_key", "k2", "AKIA2", {"user": "alice"}, {}))
    with pytest.raises(OSError):
        f.save(s)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_lock_excludes_second_run(tmp_path: Path) -> None:
    f = StateFile(tmp_path / "s.json", "pw")
    with f.locked():
        with pytest.raises(StateError, match="another run"):
            with StateFile(tmp_path / "s.json", "pw").locked():
                pass
