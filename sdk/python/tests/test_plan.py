from __future__ import annotations

from credplane.runtime import UNKNOWN, Plan, PropertyChange, Secret, Step
from credplane.runtime.plan import render_value


def test_render_values() -> None:
    assert render_value(Secret("x")) == "[secret]"
    assert render_value(UNKNOWN) == "(unknown)"
    assert render_value({"a": Secret("x")}) == '{"a": "[secret]"}'
    assert render_value("s") == '"s"' and render_value(None) == "null"


def test_plan_rendering() -> None:
    plan = Plan("dev", "preview", [
        Step("create", "alicloud_kms_secret", "kms", None, [
            PropertyChange("secret_data", "add", None, UNKNOWN),
            PropertyChange("secret_name", "add", None, "s1"),
        ]),
        Step("update", "alicloud_kms_secret", "kms2", "s2", [PropertyChange("secret_data", "update", Secret("old-plain"), Secret("new-plain"))]),
        Step("replace", "aws_iam_access_key", "k1", "AKIA1", [PropertyChange("user", "update", "alice", "bob", True)]),
        Step("delete", "aws_iam_access_key", "old", "AKIA0"),
        Step("same", "aws_iam_access_key", "k9", "AKIA9"),
    ])
    text = plan.render()
    assert text.splitlines() == [
        "Previewing stack dev:",
        " + alicloud_kms_secret kms",
        "       + secret_data: (unknown)",
        '       + secret_name: "s1"',
        " ~ alicloud_kms_secret kms2 (id s2)",
        "       ~ secret_data: [secret] => [secret]",
        "+- aws_iam_access_key k1 (id AKIA1)",
        '       ~ user: "alice" => "bob" (forces replacement)',
        " - aws_iam_access_key old (id AKIA0)",
        "Resources: 1 to create, 1 to update, 1 to replace, 1 to delete, 1 unchanged",
    ]
    assert "plain" not in text
    assert plan.ops() == {"kms": "create", "kms2": "update", "k1": "replace", "old": "delete", "k9": "same"}
    assert plan.has_changes
    assert str(plan) == text


def test_plan_to_dict_is_masked() -> None:
    import json

    plan = Plan("dev", "preview", [Step("update", "t", "n", "i", [PropertyChange("s", "update", Secret("old-plain"), UNKNOWN)])])
    d = plan.to_dict()
    assert d["steps"][0]["changes"][0] == {"name": "s", "kind": "update", "replace": False, "old": "[secret]", "new": "(unknown)"}
    assert "plain" not in json.dumps(d)
