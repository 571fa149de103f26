"""The thin SDK against the real engine (credplane serve --stdio --sandbox): operations, options,
references and apply callbacks, and bad input with clear errors and the state intact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from credplane.resources import AlicloudKmsSecret, AlicloudKmsSecretArgs, AlicloudRamAccessKey, AlicloudRamAccessKeyArgs
from credplane.runtime import (
    UNKNOWN, Client, InvalidParams, Locked, Output, PassphraseRequired, Protected, Resource, Secret, Stack, StateError,
)


def kms(name: str, secret_name: str | None = None, data: Any = "value", **kw: Any) -> AlicloudKmsSecret:
    r = AlicloudKmsSecret(name, AlicloudKmsSecretArgs(secret_name=secret_name or f"t/{name}", version_id="v1",
                                                      secret_data=data, description=kw.pop("description", None)))
    return r.set_options(**kw) if kw else r  # type: ignore[return-value]


def test_up_update_replace_delete_and_destroy(make_stack: Callable[..., Stack], tmp_path: Path) -> None:
    desc = {"a": "one"}
    names = {"b": "t/b"}

    def program() -> None:
        kms("a", description=desc["a"])
        kms("b", secret_name=names["b"])

    st = make_stack(program)
    assert st.preview().ops() == {"a": "create", "b": "create"}
    plan = st.up()
    assert plan.summary["create"] == 2 and st.outputs("a")["secret_data"] == Secret("value")
    state_text = (tmp_path / "state.json").read_text()
    assert "value" not in json.loads(state_text)["resources"][0]["outputs"]["secret_data"].get("ciphertext", "value")
    assert st.up().ops() == {"a": "same", "b": "same"}
    desc["a"], names["b"] = "two", "t/b2"
    plan = st.up()
    assert plan.ops() == {"a": "update", "b": "replace"} and plan.step("a").changed == ["description"]  # type: ignore[union-attr]
    assert [s.note for s in plan.steps if s.op == "delete"] == ["replaced"]
    plan = st.destroy()
    assert plan.summary["delete"] == 2 and st.state() == {}


def test_references_and_apply_callbacks_flow_through_the_engine(make_stack: Callable[..., Stack]) -> None:
    def program() -> None:
        key = AlicloudRamAccessKey("key", AlicloudRamAccessKeyArgs(user_name="alice"))
        kms("ref", data=key.secret.required())  # an apply callback: the SDK waits for "key"
        kms("plain", data=key.id)  # a reference: resolved by the engine

    st = make_stack(program)
    preview = st.preview()
    assert preview.step("plain").outputs["secret_data"] is UNKNOWN  # type: ignore[union-attr]
    st.up()
    key = st.outputs("key")
    assert st.outputs("plain")["secret_data"] == Secret(key["id"])
    assert st.outputs("ref")["secret_data"] == key["secret"]
    st.destroy()


def test_many_registrations_are_pipelined(make_stack: Callable[..., Stack]) -> None:
    st = make_stack(lambda: [kms(f"s{i}") for i in range(300)], parallelism=32)
    assert st.up().summary["create"] == 300
    assert st.destroy().summary["delete"] == 300


def test_bad_input_names_the_resource_and_keeps_the_state(make_stack: Callable[..., Stack]) -> None:
    st = make_stack(lambda: kms("a"))
    st.up()
    with pytest.raises(InvalidParams, match="resources.a.*two resources are named"):
        make_stack(lambda: (kms("a"), kms("a", secret_name="t/other"))).up()
    outside = kms("outside")

    def dangling() -> None:
        kms("b", data=outside.id)

    with pytest.raises(InvalidParams, match='resources.b.inputs.*"outside", which is not a resource'):
        make_stack(dangling).up()

    def cycle() -> None:
        a, b = kms("a"), kms("b")
        a.set_options(depends_on=[b])
        b.set_options(depends_on=[a])

    with pytest.raises(InvalidParams, match="dependency cycle: b -> a -> b"):
        make_stack(cycle).up()
    with pytest.raises(InvalidParams, match="resources.bad.inputs.*has no output"):
        make_stack(lambda: kms("bad", data=Output(kms("a"), "nope"))).up()
    assert set(make_stack(lambda: kms("a")).up().ops().values()) == {"same"}  # state intact
    make_stack().destroy()


def test_wrong_passphrase_and_held_lock(make_stack: Callable[..., Stack], client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = make_stack(lambda: kms("a"))
    st.up()
    with pytest.raises(StateError, match="wrong CREDPLANE_PASSPHRASE"):
        make_stack(lambda: kms("a"), passphrase="not it").up()
    with pytest.raises(PassphraseRequired):
        make_stack(lambda: kms("a"), passphrase="").up()
    held = client.call("engine.open", {"stack": "test", "action": "up", "backend": str(tmp_path / "state.json")})
    with pytest.raises(Locked, match="locked by pid"):
        make_stack(lambda: kms("a")).up()
    client.call("engine.close", {"deployment": held["deployment"]})  # an empty up: deletes "a"
    assert make_stack().destroy().summary["delete"] == 0


def test_protect_retain_and_import(make_stack: Callable[..., Stack]) -> None:
    st = make_stack(lambda: (kms("p", protect=True), kms("r", retain_on_delete=True)))
    st.up()
    with pytest.raises(Protected, match="p: is protected"):
        make_stack(lambda: kms("r", retain_on_delete=True)).up()
    make_stack(lambda: (kms("p"), kms("r", retain_on_delete=True))).up()
    make_stack().destroy()
    # "r" was retained: it still exists in the cloud, so it can be imported by id.
    adopted = make_stack(lambda: kms("r2", secret_name="t/r", import_="t/r"), state_path=None, backend=str(Path(st.backend or "").parent / "other"))
    assert adopted.up().ops() == {"r2": "import"}
    with pytest.raises(InvalidParams, match="differ from the imported resource: description"):
        make_stack(lambda: kms("r3", secret_name="t/r", description="x", import_="t/r"), name="third").up()
    adopted.destroy()


def test_ignore_changes_and_replace_on_changes(make_stack: Callable[..., Stack]) -> None:
    desc = {"v": "one"}
    make_stack(lambda: kms("a", description=desc["v"], ignore_changes=["description"])).up()
    desc["v"] = "two"
    assert make_stack(lambda: kms("a", description=desc["v"], ignore_changes=["description"])).up().ops() == {"a": "same"}
    plan = make_stack(lambda: kms("a", secret_name="t/a2", description="two", replace_on_changes=["description"],
                                  delete_before_replace=True)).up()
    assert plan.ops() == {"a": "replace"} and plan.step("a").delete_before_replace  # type: ignore[union-attr]
    make_stack().destroy()


def test_plain_resource_class_still_works(make_stack: Callable[..., Stack]) -> None:
    st = make_stack(lambda: Resource("alicloud_kms_secret", "x", {"secret_name": "t/x", "version_id": "v1", "secret_data": Secret("s")}))
    assert st.up().ops() == {"x": "create"}
    st.destroy()
