"""Stack operations against the fake provider (create, update, replace, delete, refresh,
destroy, dependencies, secrets) and crash recovery."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import USE_SANDBOX
from credplane.runtime import (
    CheckFailed,
    CloudError,
    PartiallyCreated,
    PassphraseRequired,
    PendingOperationError,
    Resource,
    Secret,
    Stack,
    TransportError,
)

pytestmark = pytest.mark.skipif(USE_SANDBOX, reason="drives the fake provider's cloud file")

MakeStack = Callable[..., Stack]


def cloud(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["cloud"] if path.exists() else {}


def count(path: Path, t: str) -> int:
    return len(cloud(path).get(t, {}))


def ram_into_kms(status: str = "Active", version: str = "v1") -> Callable[[], None]:
    def program() -> None:
        key = Resource("alicloud_ram_access_key", "ram", {"user_name": "alice", "status": status})
        Resource("alicloud_kms_secret", "kms", {"secret_name": "app/ram", "secret_data": key._output("secret"), "version_id": version})

    return program


def test_preview_changes_nothing(make_stack: MakeStack, cloud_file: Path, tmp_path: Path) -> None:
    s = make_stack(ram_into_kms())
    plan = s.preview()
    assert plan.ops() == {"ram": "create", "kms": "create"}
    kms = plan.step("kms")
    assert kms is not None and "secret_data" in kms.changed
    assert "(unknown)" in plan.render()
    assert count(cloud_file, "alicloud_ram_access_key") == 0
    assert not (tmp_path / "state.json").exists()


def test_up_with_dependency_and_secret_flow(make_stack: MakeStack, cloud_file: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    s = make_stack(ram_into_kms(), out=out)
    plan = s.up()
    assert plan.ops() == {"ram": "create", "kms": "create"}
    ram, kms = s.outputs("ram"), s.outputs("kms")
    assert isinstance(ram["secret"], Secret)
    assert kms["secret_data"] == ram["secret"]
    assert ram["secret"].value not in out.getvalue()
    assert ram["secret"].value not in (tmp_path / "state.json").read_text()
    assert s.state().get("kms").dependencies == ["ram"]  # type: ignore[union-attr]
    # Re-running is a no-op.
    again = s.up()
    assert set(again.ops().values()) == {"same"}


def test_update_in_place(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack(ram_into_kms())
    s.up()
    ram_id = s.outputs("ram")["id"]
    s._program = ram_into_kms(status="Inactive")
    plan = s.preview()
    assert plan.ops() == {"ram": "update", "kms": "same"}
    assert plan.step("ram").changed == ["status"]  # type: ignore[union-attr]
    s.up()
    assert s.outputs("ram")["id"] == ram_id and s.outputs("ram")["status"] == "Inactive"
    assert cloud(cloud_file)["alicloud_ram_access_key"][ram_id]["status"] == "Inactive"


def test_replace_create_before_delete(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack(lambda: Resource("aws_iam_access_key", "k", {"user": "alice"}) and None)
    s.up()
    old = s.outputs("k")["id"]
    s._program = lambda: Resource("aws_iam_access_key", "k", {"user": "alice", "pgp_key": "keybase:alice"}) and None
    plan = s.preview()
    assert plan.ops() == {"k": "replace"}
    text = plan.render()
    assert "+- aws_iam_access_key k" in text and "(forces replacement)" in text
    s.up()
    new = s.outputs("k")["id"]
    assert new != old and list(cloud(cloud_file)["aws_iam_access_key"]) == [new]
    assert s.state().pending_deletes == []


def test_delete_undeclared_in_reverse_dependency_order(make_stack: MakeStack, cloud_file: Path, tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    os.environ["FAKE_PROVIDER_LOG"] = str(log)
    try:
        s = make_stack(ram_into_kms())
        s.up()
        s._program = lambda: None
        plan = s.preview()
        assert plan.ops() == {"kms": "delete", "ram": "delete"}
        s.up()
    finally:
        del os.environ["FAKE_PROVIDER_LOG"]
    deletes = [json.loads(l)["type"] for l in log.read_text().splitlines() if json.loads(l)["method"] == "delete"]
    assert deletes == ["alicloud_kms_secret", "alicloud_ram_access_key"]
    assert s.state().resources == []


def test_destroy(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack(ram_into_kms())
    s.up()
    plan = s.destroy()
    assert [st.name for st in plan.steps] == ["kms", "ram"]
    assert count(cloud_file, "alicloud_kms_secret") == 0 and count(cloud_file, "alicloud_ram_access_key") == 0
    assert s.state().resources == []


def test_refresh_drift_and_gone(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack(ram_into_kms())
    s.up()
    doc = json.loads(cloud_file.read_text())
    ram_id = s.outputs("ram")["id"]
    doc["cloud"]["alicloud_ram_access_key"][ram_id]["status"] = "Inactive"
    doc["cloud"]["alicloud_kms_secret"] = {}
    cloud_file.write_text(json.dumps(doc))
    s._client.close()  # type: ignore[union-attr]
    from conftest import provider_argv
    from credplane.runtime import Client

    s._client = Client.stdio(argv=provider_argv())
    plan = s.refresh()
    assert plan.ops() == {"ram": "update", "kms": "delete"}
    assert plan.step("ram").changed == ["status"]  # type: ignore[union-attr]
    assert s.state().get("kms") is None
    # The next up recreates the secret and sets the status back.
    assert s.preview().ops() == {"ram": "update", "kms": "create"}


def test_check_failure_stops_before_changes(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack(lambda: Resource("aws_iam_access_key", "k", {"usr": "alice"}) and None)
    with pytest.raises(CheckFailed) as e:
        s.up()
    assert {f.property for f in e.value.failures} == {"usr", "user"}
    assert e.value.resource == "k"


def test_cloud_error_drops_the_marker(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack(lambda: Resource("aws_iam_access_key", "k", {"user": "mallory"}) and None)
    with pytest.raises(CloudError):
        s.up()
    st = s.state()
    assert st.pending == [] and st.resources == []


def test_two_keys_limit_is_reported(make_stack: MakeStack, cloud_file: Path) -> None:
    def program() -> None:
        for i in range(3):
            Resource("aws_iam_access_key", f"k{i}", {"user": "alice"})

    s = make_stack(program)
    with pytest.raises(CloudError) as e:
        s.up()
    assert e.value.cloud_code == "LimitExceeded"
    assert sorted(r.name for r in s.state().resources) == ["k0", "k1"]


def test_up_requires_passphrase(make_stack: MakeStack, monkeypatch: pytest.MonkeyPatch, cloud_file: Path) -> None:
    monkeypatch.delenv("CREDPLANE_PASSPHRASE")
    s = make_stack(ram_into_kms())
    with pytest.raises(PassphraseRequired):
        s.up()
    assert count(cloud_file, "alicloud_ram_access_key") == 0


def test_with_block_declaration(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack()
    with s:
        Resource("aws_iam_access_key", "k", {"user": "alice"})
    assert s.up().ops() == {"k": "create"}


def test_duplicate_names_and_foreign_dependencies(make_stack: MakeStack) -> None:
    s = make_stack(lambda: [Resource("aws_iam_access_key", "k", {"user": "alice"}), Resource("aws_iam_access_key", "k", {"user": "alice"})] and None)
    with pytest.raises(Exception, match="two resources"):
        s.preview()
    outside = Resource("aws_iam_access_key", "outside", {"user": "alice"})
    s2 = make_stack(lambda: Resource("alicloud_kms_secret", "kms", {"secret_name": "x", "secret_data": outside._output("secret"), "version_id": "v1"}) and None)
    with pytest.raises(Exception, match="not declared"):
        s2.preview()


# --- crash safety ----------------------------------------------------------------------------


class Interrupt(BaseException):
    pass


def test_interrupted_run_is_completed_without_duplicates(make_stack: MakeStack, cloud_file: Path) -> None:
    def program() -> None:
        key = Resource("alicloud_ram_access_key", "ram", {"user_name": "alice"})
        Resource("alicloud_kms_secret", "kms", {"secret_name": "app/ram", "secret_data": key._output("secret"), "version_id": "v1"})
        Resource("aws_iam_access_key", "aws", {"user": "alice"})

    def stop_after_first_create(op: str, name: str) -> None:
        if op == "create":
            raise Interrupt()

    s = make_stack(program, after_operation=stop_after_first_create)
    with pytest.raises(Interrupt):
        s.up()
    assert [r.name for r in s.state().resources] == ["ram"]
    s.after_operation = None
    plan = s.up()
    assert plan.ops() == {"ram": "same", "kms": "create", "aws": "create"}
    assert count(cloud_file, "alicloud_ram_access_key") == 1
    assert count(cloud_file, "alicloud_kms_secret") == 1 and count(cloud_file, "aws_iam_access_key") == 1


def test_crash_during_create_of_kms_secret_is_adopted(make_stack: MakeStack, cloud_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_FAULTS", json.dumps({"die_after_create": ["alicloud_kms_secret"]}))
    s = make_stack(ram_into_kms())
    with pytest.raises(TransportError):
        s.up()
    st = s.state()
    assert [p.name for p in st.pending] == ["kms"] and count(cloud_file, "alicloud_kms_secret") == 1
    monkeypatch.delenv("FAKE_PROVIDER_FAULTS")
    s2 = make_stack(ram_into_kms())
    plan = s2.up()
    assert plan.ops() == {"ram": "same", "kms": "same"}
    assert count(cloud_file, "alicloud_kms_secret") == 1
    assert s2.state().pending == []


def test_crash_during_create_of_key_needs_resolution(make_stack: MakeStack, cloud_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_FAULTS", json.dumps({"die_after_create": ["aws_iam_access_key"]}))
    program = lambda: Resource("aws_iam_access_key", "k", {"user": "alice"}) and None  # noqa: E731
    s = make_stack(program)
    with pytest.raises(TransportError):
        s.up()
    monkeypatch.delenv("FAKE_PROVIDER_FAULTS")
    s2 = make_stack(program)
    with pytest.raises(PendingOperationError) as e:
        s2.up()
    assert e.value.names == ["k"]
    assert count(cloud_file, "aws_iam_access_key") == 1  # nothing duplicated
    orphan = next(iter(cloud(cloud_file)["aws_iam_access_key"]))
    s2.resolve_pending("k", id=orphan)
    assert s2.up().ops() == {"k": "same"}
    assert count(cloud_file, "aws_iam_access_key") == 1


def test_partially_created_is_recorded(make_stack: MakeStack, cloud_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_FAULTS", json.dumps({"partial_create": ["aws_iam_access_key"]}))
    program = lambda: Resource("aws_iam_access_key", "k", {"user": "alice"}) and None  # noqa: E731
    s = make_stack(program)
    with pytest.raises(PartiallyCreated) as e:
        s.up()
    r = s.state().get("k")
    assert r is not None and r.id == e.value.id and r.partial and isinstance(r.outputs["secret"], Secret)
    monkeypatch.delenv("FAKE_PROVIDER_FAULTS")
    s2 = make_stack(program)
    assert s2.up().ops() == {"k": "same"}
    assert not s2.state().get("k").partial  # type: ignore[union-attr]
    assert count(cloud_file, "aws_iam_access_key") == 1


def test_interrupted_replace_deletes_old_later(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack(lambda: Resource("aws_iam_access_key", "k", {"user": "alice"}) and None)
    s.up()
    old = s.outputs("k")["id"]

    def stop(op: str, name: str) -> None:
        if op == "create":
            raise Interrupt()

    s._program = lambda: Resource("aws_iam_access_key", "k", {"user": "alice", "pgp_key": "keybase:alice"}) and None
    s.after_operation = stop
    with pytest.raises(Interrupt):
        s.up()
    st = s.state()
    assert [r.id for r in st.pending_deletes] == [old] and st.get("k") is not None
    s.after_operation = None
    plan = s.up()
    assert [(x.name, x.op, x.note) for x in plan.steps] == [("k", "same", ""), ("k", "delete", "replaced")]
    assert plan.ops() == {"k": "same"}
    assert list(cloud(cloud_file)["aws_iam_access_key"]) == [s.outputs("k")["id"]]


def test_generated_style_wire_envelopes_in_inputs(make_stack: MakeStack, cloud_file: Path, tmp_path: Path) -> None:
    """Generated classes pass inputs already enveloped: {"$credplane": "secret", "value": ...}."""
    out = io.StringIO()

    def program() -> None:
        key = Resource("alicloud_ram_access_key", "ram", {"user_name": "alice"})
        Resource("alicloud_kms_secret", "lit", {"secret_name": "a", "secret_data": {"$credplane": "secret", "value": "lit-PLAINTEXT"}, "version_id": "v1"})
        kms = Resource("alicloud_kms_secret", "ref", {"secret_name": "b", "secret_data": key._output("secret"), "version_id": key._output("id")})
        assert kms.inputs["version_id"].resource is key

    s = make_stack(program, out=out)
    s.preview()
    s.up()
    assert "lit-PLAINTEXT" not in out.getvalue() and "lit-PLAINTEXT" not in (tmp_path / "state.json").read_text()
    assert s.outputs("lit")["secret_data"] == Secret("lit-PLAINTEXT")
    assert s.outputs("ref")["version_id"] == s.outputs("ram")["id"]


def test_refresh_keeps_secrets_the_cloud_does_not_return(make_stack: MakeStack, cloud_file: Path) -> None:
    s = make_stack(lambda: Resource("aws_iam_access_key", "k", {"user": "alice"}) and None)
    s.up()
    secret = s.outputs("k")["secret"]
    doc = json.loads(cloud_file.read_text())
    key_id = s.outputs("k")["id"]
    doc["cloud"]["aws_iam_access_key"][key_id]["secret"] = None  # read no longer returns it
    cloud_file.write_text(json.dumps(doc))
    from conftest import provider_argv
    from credplane.runtime import Client

    s._client.close()  # type: ignore[union-attr]
    s._client = Client.stdio(argv=provider_argv())
    assert s.refresh().ops() == {"k": "same"}
    assert s.outputs("k")["secret"] == secret


def test_replaced_key_is_deleted_after_dependents_are_updated(make_stack: MakeStack, cloud_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_PROVIDER_LOG", str(log))

    def program(pgp: str | None) -> Callable[[], None]:
        def p() -> None:
            key = Resource("aws_iam_access_key", "key", {"user": "alice", "pgp_key": pgp})
            Resource("alicloud_kms_secret", "kms", {"secret_name": "k", "secret_data": key._output("id"), "version_id": "v1"})
        return p

    s = make_stack(program(None))
    s.up()
    log.write_text("")
    s._program = program("keybase:alice")
    plan = s.up()
    assert plan.ops() == {"key": "replace", "kms": "update"}
    calls = [(c["method"], c["type"]) for c in map(json.loads, log.read_text().splitlines()) if c["method"] in ("create", "update", "delete") and not c["preview"]]
    assert calls == [("create", "aws_iam_access_key"), ("update", "alicloud_kms_secret"), ("delete", "aws_iam_access_key")]
    assert s.outputs("kms")["secret_data"] == Secret(s.outputs("key")["id"])


def test_timeouts_are_sent(make_stack: MakeStack, cloud_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_PROVIDER_LOG", str(log))
    s = make_stack(lambda: Resource("aws_iam_access_key", "k", {"user": "alice"}, timeouts={"create": 7}) and None)
    s.up()
    creates = [c for c in map(json.loads, log.read_text().splitlines()) if c["method"] == "create" and not c["preview"]]
    assert [c["timeoutSeconds"] for c in creates] == [7]


def test_delete_before_replace(make_stack: MakeStack, cloud_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_PROVIDER_LOG", str(log))
    monkeypatch.setenv("FAKE_PROVIDER_FAULTS", json.dumps({"delete_before_replace": ["alicloud_kms_secret"]}))
    prog = lambda name: (lambda: Resource("alicloud_kms_secret", "kms", {"secret_name": name, "secret_data": Secret("x"), "version_id": "v1"}) and None)  # noqa: E731
    s = make_stack(prog("one"))
    s.up()
    log.write_text("")
    s._program = prog("two")
    plan = s.preview()
    assert plan.ops() == {"kms": "replace"} and plan.step("kms").delete_before_replace  # type: ignore[union-attr]
    assert "[delete before replace]" in plan.render()
    s.up()
    calls = [(c["method"]) for c in map(json.loads, log.read_text().splitlines()) if c["method"] in ("create", "delete") and not c["preview"]]
    assert calls == ["delete", "create"]
    assert list(cloud(cloud_file)["alicloud_kms_secret"]) == ["two"]


def test_failed_up_prints_what_was_done(make_stack: MakeStack, cloud_file: Path) -> None:
    out = io.StringIO()

    def program() -> None:
        Resource("aws_iam_access_key", "good", {"user": "alice"})
        Resource("aws_iam_access_key", "bad", {"user": "mallory"})

    s = make_stack(program, out=out)
    with pytest.raises(CloudError):
        s.up()
    text = out.getvalue()
    assert "+ aws_iam_access_key good" in text and "stopped by CloudError" in text
    assert "aws_iam_access_key bad" not in text
    assert [r.name for r in s.state().resources] == ["good"]


def test_config_is_sent_once(make_stack: MakeStack, cloud_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_PROVIDER_LOG", str(log))
    s = make_stack(lambda: Resource("aws_iam_access_key", "k", {"user": "alice"}) and None, config={"aws": {"region": "us-east-1"}})
    s.preview()
    s.up()
    methods = [c["method"] for c in map(json.loads, log.read_text().splitlines())]
    assert methods.count("configure") == 1 and methods[0] == "configure"
