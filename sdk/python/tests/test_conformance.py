"""Runs every scenario of tests/conformance/scenarios against the provider (the fake one by
default; ``credplane serve --stdio --sandbox`` when CREDPLANE_CONFORMANCE_SANDBOX=1).
The format is specified in tests/conformance/README.md."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import REPO, provider_argv
from credplane.runtime import Client, Plan, Resource, RpcError, Secret, Stack, Unknown
from credplane.runtime.secret import is_secret_envelope, reveal

SCENARIOS = sorted((REPO / "tests" / "conformance" / "scenarios").glob("*.json"))


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

    return program


def lookup(stack: Stack, dotted: str) -> Any:
    name, _, prop = dotted.partition(".")
    return stack.outputs(name).get(prop)


def check_expect(expect: dict[str, Any], plan: Plan, text: str, stack: Stack, ids_before: dict[str, str], literals: list[str], where: str) -> None:
    if "plan" in expect:
        got = {s.name: s.op for s in plan.steps if s.op != "same"}
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
        for r in stack.state().resources:
            for v in r.outputs.values():
                if isinstance(v, Secret):
                    plaintexts.append(v.value if isinstance(v.value, str) else json.dumps(reveal(v)))
        for p in plaintexts:
            assert p not in text, f"{where}: a secret leaked into the printed plan"
        for name, props in expect["masked"].items():
            step = plan.step(name)
            assert step is not None
            for prop in props:
                change = next((c for c in step.changes if c.name == prop), None)
                assert change is not None and isinstance(change.new, Secret), f"{where}: {name}.{prop} not a secret change"
                assert any(f" {prop}: " in l and "[secret]" in l for l in text.splitlines()), text
    state = stack.state()
    for name, e in expect.get("outputs", {}).items():
        r = state.get(name)
        assert r is not None, f"{where}: {name} not in the state"
        for prop in e.get("present", []):
            assert r.outputs.get(prop) is not None, f"{where}: {name}.{prop} missing"
        for prop in e.get("secret", []):
            assert isinstance(r.outputs.get(prop), Secret), f"{where}: {name}.{prop} not secret"
        for prop, value in e.get("values", {}).items():
            assert reveal(r.outputs.get(prop)) == value, f"{where}: {name}.{prop} = {reveal(r.outputs.get(prop))!r}"
    for a, b in expect.get("equal", []):
        va, vb = lookup(stack, a), lookup(stack, b)
        assert va is not None and reveal(va) == reveal(vb), f"{where}: {a} != {b}"
    for name in expect.get("sameId", []):
        assert state.get(name) is not None and state.get(name).id == ids_before[name], f"{where}: {name} id changed"  # type: ignore[union-attr]
    for name in expect.get("newId", []):
        assert state.get(name) is not None and state.get(name).id != ids_before[name], f"{where}: {name} id unchanged"  # type: ignore[union-attr]
    if "state" in expect:
        assert sorted(r.name for r in state.resources) == sorted(expect["state"]), f"{where}: state {[r.name for r in state.resources]}"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path, tmp_path: Path, cloud_file: Path, passphrase: str) -> None:
    scenario = json.loads(path.read_text())
    literals: list[str] = []
    program: list[dict[str, Any]] = []
    client = Client.stdio(argv=provider_argv(), timeout=120)
    try:
        for i, step in enumerate(scenario["steps"]):
            where = f"{scenario['name']} step {i} ({step['action']})"
            if "program" in step:
                program = step["program"]
            out = io.StringIO()
            stack = Stack(scenario["name"], build_program(program, literals), state_path=tmp_path / "state.json",
                          client=client, out=out, scrypt_n=2**12)
            ids_before = {r.name: r.id for r in stack.state().resources}
            expect = step.get("expect", {})
            action = getattr(stack, step["action"])
            if "error" in expect:
                with pytest.raises(RpcError) as e:
                    action()
                assert e.value.code == expect["error"]["code"]
                if "cloudCode" in expect["error"]:
                    assert e.value.cloud_code == expect["error"]["cloudCode"]
                continue
            plan = action()
            check_expect(expect, plan, out.getvalue(), stack, ids_before, literals, where)
    finally:
        client.close()


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 4
    for p in SCENARIOS:
        doc = json.loads(p.read_text())
        assert {"name", "steps"} <= set(doc) and doc["steps"][-1]["action"] == "destroy"
