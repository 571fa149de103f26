"""Runs every scenario of tests/conformance/scenarios against the engine
(``credplane serve --stdio --sandbox``). The format is specified in tests/conformance/README.md."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import REPO, provider_argv
from credplane.runtime import Client, Plan, Resource, RpcError, Secret, Stack, Unknown
from credplane.runtime.secret import is_secret_envelope
from helpers import reveal

import os

SCENARIO_DIR = Path(os.environ.get("CREDPLANE_CONFORMANCE_DIR") or REPO / "tests" / "conformance" / "scenarios")
SCENARIOS = sorted(SCENARIO_DIR.glob("*.json"))

SCENARIO_KEYS = {"name", "description", "steps"}
STEP_KEYS = {"action", "program", "expect"}
ACTIONS = {"preview", "up", "refresh", "destroy"}
RESOURCE_KEYS = {"type", "name", "inputs", "dependsOn", "options"}
EXPECT_KEYS = {"plan", "order", "unknown", "masked", "outputs", "equal", "sameId", "newId", "state", "error"}
PLAN_KEYS = {"op", "changed", "unchanged", "replaceBy"}
OUTPUT_KEYS = {"present", "secret", "values"}
OPS = {"create", "update", "replace", "delete"}


def validate(doc: Any) -> None:
    """Rejects anything the format (tests/conformance/README.md) does not define, typos included."""
    assert isinstance(doc, dict) and set(doc) <= SCENARIO_KEYS and {"name", "steps"} <= set(doc), sorted(doc)
    assert isinstance(doc["steps"], list) and doc["steps"]
    for step in doc["steps"]:
        assert set(step) <= STEP_KEYS and step.get("action") in ACTIONS, step
        for r in step.get("program", []):
            assert set(r) <= RESOURCE_KEYS and {"type", "name"} <= set(r), r
        expect = step.get("expect", {})
        assert set(expect) <= EXPECT_KEYS, sorted(set(expect) - EXPECT_KEYS)
        for e in expect.get("plan", {}).values():
            assert set(e) <= PLAN_KEYS and e.get("op") in OPS, e
        for e in expect.get("outputs", {}).values():
            assert set(e) <= OUTPUT_KEYS, e


def build_program(spec: list[dict[str, Any]], literals: list[str]) -> Callable[[], None]:
    def program() -> None:
        declared: dict[str, Resource] = {}

        def convert(v: Any) -> Any:
            if isinstance(v, dict):
                if set(v) == {"$ref"}:
                    name, _, prop = str(v["$ref"]).partition(".")
                    if name not in declared:
                        raise AssertionError(f"$ref to {name}, not declared earlier")
                    return declared[name]._output(prop)
                if is_secret_envelope(v):
                    literals.append(json.dumps(v["value"]) if not isinstance(v["value"], str) else v["value"])
                    return Secret(convert(v["value"]))
                return {k: convert(x) for k, x in v.items()}
            if isinstance(v, list):
                return [convert(x) for x in v]
            return v

        for r in spec:
            deps = [declared[d] for d in r.get("dependsOn", [])]
            declared[r["name"]] = Resource(r["type"], r["name"], convert(r.get("inputs", {})), depends_on=deps)
            declared[r["name"]]._options.update(r.get("options", {}))  # wire names, as in docs/engine.md

    return program


def lookup(stack: Stack, dotted: str) -> Any:
    name, _, prop = dotted.partition(".")
    return stack.outputs(name).get(prop)


def check_expect(expect: dict[str, Any], plan: Plan, text: str, stack: Stack, ids_before: dict[str, str], literals: list[str], where: str) -> None:
    if "plan" in expect:
        got = {n: op for n, op in plan.ops().items() if op != "same"}
        want = {n: e["op"] for n, e in expect["plan"].items()}
        assert got == want, f"{where}: plan ops {got} != {want}\n{text}"
        for name, e in expect["plan"].items():
            step = plan.step(name)
            assert step is not None
            changed = set(step.changed)
            missing = set(e.get("changed", [])) - changed
            assert not missing, f"{where}: {name} changes {sorted(changed)} lack {sorted(missing)}"
            extra = set(e.get("unchanged", [])) & changed
            assert not extra, f"{where}: {name} should not change {sorted(extra)}"
            forced = {c.name for c in step.changes if c.replace}
            assert set(e.get("replaceBy", [])) <= forced, f"{where}: {name} replacement forced by {forced}"
    if "order" in expect:
        names = [s.name for s in plan.steps if s.name in expect["order"]]
        assert names == expect["order"], f"{where}: order {names}"
    for name, props in expect.get("unknown", {}).items():
        step = plan.step(name)
        assert step is not None
        for prop in props:
            assert isinstance(step.outputs.get(prop), Unknown), f"{where}: {name}.{prop} should be unknown"
            for c in step.changes:
                if c.name == prop:
                    assert any(l.strip().startswith(("+", "~", "-")) and f" {prop}: " in l and "(unknown)" in l for l in text.splitlines()), text
    if "masked" in expect:
        plaintexts = list(literals)
        for r in stack.state().values():
            for v in r["outputs"].values():
                if isinstance(v, Secret):
                    plaintexts.append(v.value if isinstance(v.value, str) else json.dumps(reveal(v)))
        for p in plaintexts:
            assert p not in text, f"{where}: a secret leaked into the printed plan"
        for name, props in expect["masked"].items():
            step = plan.step(name)
            assert step is not None
            for prop in props:
                change = next((c for c in step.changes if c.name == prop), None)
                assert change is not None and change.new == "[secret]", f"{where}: {name}.{prop} not a secret change"
                assert any(f" {prop}: " in l and "[secret]" in l for l in text.splitlines()), text
    state = stack.state()
    for name, e in expect.get("outputs", {}).items():
        assert name in state, f"{where}: {name} not in the state"
        outputs = state[name]["outputs"]
        for prop in e.get("present", []):
            assert outputs.get(prop) is not None, f"{where}: {name}.{prop} missing"
        for prop in e.get("secret", []):
            assert isinstance(outputs.get(prop), Secret), f"{where}: {name}.{prop} not secret"
        for prop, value in e.get("values", {}).items():
            assert reveal(outputs.get(prop)) == value, f"{where}: {name}.{prop} = {reveal(outputs.get(prop))!r}"
    for a, b in expect.get("equal", []):
        va, vb = lookup(stack, a), lookup(stack, b)
        assert va is not None and reveal(va) == reveal(vb), f"{where}: {a} != {b}"
    for name in expect.get("sameId", []):
        assert name in state and state[name]["id"] == ids_before.get(name), f"{where}: {name} id changed"
    for name in expect.get("newId", []):
        assert name in state and state[name]["id"] != ids_before.get(name), f"{where}: {name} id unchanged"
    if "state" in expect:
        assert sorted(state) == sorted(expect["state"]), f"{where}: state {sorted(state)}"


def run_scenario(scenario: dict[str, Any], tmp_path: Path) -> None:
    """Runs one scenario on a fresh provider process and an empty state in ``tmp_path``."""
    validate(scenario)
    literals: list[str] = []
    program: list[dict[str, Any]] = []
    client = Client(provider_argv())
    ids_before: dict[str, str] = {}
    try:
        for i, step in enumerate(scenario["steps"]):
            where = f"{scenario['name']} step {i} ({step['action']})"
            if "program" in step:
                program = step["program"]
            out = io.StringIO()
            stack = Stack(scenario["name"], build_program(program, literals), state_path=tmp_path / "state.json",
                          client=client, out=out)
            expect = step.get("expect", {})
            action = getattr(stack, step["action"])
            if "error" in expect:
                with pytest.raises(RpcError) as e:
                    action()
                assert e.value.code == expect["error"]["code"]
                if "cloudCode" in expect["error"]:
                    assert e.value.cloud_code == expect["error"]["cloudCode"]
                assert expect["error"].get("message", "") in e.value.message, f"{where}: {e.value.message}"
                continue
            plan = action()
            check_expect(expect, plan, out.getvalue(), stack, ids_before, literals, where)
            ids_before = {n: r["id"] for n, r in stack.state().items()}
    finally:
        client.close()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path, tmp_path: Path, passphrase: str) -> None:
    run_scenario(json.loads(path.read_text()), tmp_path)


def test_scenarios_are_valid() -> None:
    assert len(SCENARIOS) >= 4
    names = set()
    for p in SCENARIOS:
        doc = json.loads(p.read_text())
        validate(doc)
        assert doc["steps"][-1]["action"] == "destroy", f"{p.name} must end with destroy"
        assert doc["name"] not in names
        names.add(doc["name"])


BASE = {"type": "alicloud_kms_secret", "name": "kms", "inputs": {"secret_name": "neg", "secret_data": {"$credplane": "secret", "value": "NEG-PLAIN"}, "version_id": "v1"}}


@pytest.mark.parametrize("expect", [
    {"plan": {"kms": {"op": "update"}}},
    {"plan": {}},
    {"plan": {"kms": {"op": "create", "changed": ["description"]}}},
    {"outputs": {"kms": {"values": {"secret_name": "other"}}}},
    {"outputs": {"kms": {"secret": ["secret_name"]}}},
    {"state": []},
    {"masked": {"kms": ["secret_name"]}},
    {"unknown": {"kms": ["id"]}},
    {"equal": [["kms.secret_name", "kms.version_id"]]},
    {"sameId": ["kms"]},
])
def test_runner_detects_wrong_expectations(expect: dict[str, Any], tmp_path: Path, passphrase: str) -> None:
    doc = {"name": "negative", "steps": [{"action": "up", "program": [BASE], "expect": expect}]}
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        run_scenario(doc, tmp_path)


def test_validation_rejects_typos() -> None:
    with pytest.raises(AssertionError):
        validate({"name": "x", "steps": [{"action": "up", "expect": {"plan": {"a": {"op": "create", "chnaged": []}}}}]})
    with pytest.raises(AssertionError):
        validate({"name": "x", "steps": [{"action": "apply"}]})


def test_scenarios_match_the_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "tests" / "conformance" / "scenario.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for p in SCENARIOS:
        jsonschema.validate(json.loads(p.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "steps": [{"action": "up", "expect": {"plan": {"a": {"op": "create", "chnaged": []}}}}]}, schema)
