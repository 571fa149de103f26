"""A plan as the engine reports it from ``engine.close``: steps, counts and the rendered text
(rendered once, by the engine; secrets show as ``[secret]``, unknowns as ``(unknown)``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .secret import unwrap


@dataclass
class PropertyChange:
    name: str
    kind: str  # add, update or delete
    old: Any = None
    new: Any = None
    replace: bool = False


@dataclass
class Step:
    op: str  # create, update, replace, delete, same or import
    type: str
    name: str
    id: str | None = None
    changes: list[PropertyChange] = field(default_factory=list)
    delete_before_replace: bool = False
    note: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> list[str]:
        return sorted(c.name for c in self.changes)


@dataclass
class Plan:
    stack: str
    action: str
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    text: str = ""
    summary: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_reply(cls, stack: str, action: str, reply: dict[str, Any], outputs: dict[str, dict[str, Any]]) -> "Plan":
        steps = [
            Step(s["op"], s["type"], s["name"], s.get("id"), [PropertyChange(**c) for c in s.get("changes", [])],
                 bool(s.get("deleteBeforeReplace")), s.get("note", ""), outputs.get(s["name"], {}) if s.get("op") != "delete" else {})
            for s in reply.get("steps", [])
        ]
        return cls(stack, action, steps, list(reply.get("warnings", [])), str(reply.get("plan", "")), dict(unwrap(reply.get("summary", {}))))

    def step(self, name: str) -> Step | None:
        """The step of ``name`` (not the deletion of a replaced predecessor)."""
        found = [s for s in self.steps if s.name == name]
        chosen = [s for s in found if s.note != "replaced"] or found
        return chosen[-1] if chosen else None

    def ops(self) -> dict[str, str]:
        return {s.name: s.op for s in self.steps if s.note != "replaced"}

    def __str__(self) -> str:
        return self.text
