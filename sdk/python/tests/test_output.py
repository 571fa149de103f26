from __future__ import annotations

import json
from typing import Any

import pytest

from credplane.runtime import UNKNOWN, Output, Resource, Secret
from credplane.runtime.output import collect_outputs


def test_output_reference_and_apply() -> None:
    key = Resource("aws_iam_access_key", "k", {"user": "alice"})
    o = key._output("secret")
    assert o.resource is key and o.prop == "secret" and repr(o) == "Output(k.secret)"
    outputs: dict[str, Any] = {"secret": Secret("s"), "id": "AKIA1"}
    lookup = lambda r, p: outputs.get(p, UNKNOWN)  # noqa: E731
    assert o._resolve(lookup) == Secret("s")
    upper = o.apply(str.upper)
    assert upper._resolve(lookup) == Secret("S")
    assert (key._output("id").apply(lambda v: f"key {v}"))._resolve(lookup) == "key AKIA1"
    assert (key._output("missing").apply(str.upper))._resolve(lookup) is UNKNOWN
    with pytest.raises(TypeError):
        bool(o)


def test_output_all() -> None:
    key = Resource("alicloud_ram_access_key", "k", {})
    other = Resource("aws_iam_access_key", "o", {"user": "alice"})
    combined = Output.all(key._output("id"), key._output("secret"), other._output("id")).apply(
        lambda v: json.dumps({"AccessKeys": [{"AccessKeyId": v[0], "AccessKeySecret": v[1]}], "other": v[2]})
    )
    assert {o.resource.name for o in collect_outputs({"x": combined})} == {"k", "o"}
    values = {"k": {"id": "LTAI1", "secret": Secret("sss")}, "o": {"id": "AKIA2"}}
    got = (combined)._resolve(lambda r, p: values[r.name].get(p, UNKNOWN))
    assert isinstance(got, Secret) and json.loads(got.value)["AccessKeys"][0]["AccessKeySecret"] == "sss"
    assert (combined)._resolve(lambda r, p: UNKNOWN if r.name == "o" else values[r.name][p]) is UNKNOWN
    kms = Resource("alicloud_kms_secret", "kms", {"secret_data": combined})
    assert [o.resource.name for o in collect_outputs(kms._inputs)] == ["k", "k", "o"]


def test_required_output_keeps_secrets_and_refuses_absence() -> None:
    from credplane.runtime import MissingOutput

    key = Resource("alicloud_ram_access_key", "k", {"user_name": "alice"})
    required = key._output("secret").required()
    assert (required)._resolve(lambda r, p: Secret("s")) == Secret("s")
    assert (required)._resolve(lambda r, p: UNKNOWN) is UNKNOWN
    with pytest.raises(MissingOutput, match="k.secret has no value"):
        (required)._resolve(lambda r, p: None)
