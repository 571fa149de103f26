"""Plans: what a preview will do (or what an up, refresh or destroy did), and how it is printed.

Symbols: ``+`` create, ``~`` update, ``-`` delete, ``+-`` replace; per property ``+`` added,
``~`` changed, ``-`` removed. Secrets print as ``[secret]``, unknown values as ``(unknown)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .secret import MASK, UNKNOWN_TEXT, Secret, Unknown, mask

OPS = ("create", "update", "replace", "delete", "same")
OP_SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " "}
KIND_SYMBOL = {"add": "+", "update": "~", "delete": "-"}


def render_value(value: Any) -> str:
    """A one-line rendering of a value with secrets masked and unknowns marked."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if value is None:
        return "null"
    return json.dumps(mask(value), sort_keys=True, ensure_ascii=False)


@dataclass
class PropertyChange:
    name: str
    kind: str
    """``add``, ``update`` or ``delete``."""
    old: Any = None
    new: Any = None
    replace: bool = False
    """The change forces a replacement."""

    def render(self) -> str:
        sym = KIND_SYMBOL.get(self.kind, "~")
        if self.kind == "add":
            text = f"{sym} {self.name}: {render_value(self.new)}"
        elif self.kind == "delete":
            text = f"{sym} {self.name}: {render_value(self.old)}"
        else:
            text = f"{sym} {self.name}: {render_value(self.old)} => {render_value(self.new)}"
        return text + (" (forces replacement)" if self.replace else "")


@dataclass
class Step:
    op: str
    """One of :data:`OPS`."""
    type: str
    name: str
    id: str | None = None
    changes: list[PropertyChange] = field(default_factory=list)
    delete_before_replace: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)
    """Planned outputs (preview: may hold unknowns) or, after an apply, the actual outputs."""
    note: str = ""

    @property
    def changed(self) -> list[str]:
        return sorted(c.name for c in self.changes)

    def render(self, verbose: bool = True) -> str:
        head = f"{OP_SYMBOL.get(self.op, '?'):>2} {self.type} {self.name}"
        if self.id:
            head += f" (id {self.id})"
        if self.op == "replace" and self.delete_before_replace:
            head += " [delete before replace]"
        if self.note:
            head += f" [{self.note}]"
        lines = [head]
        if verbose and self.op != "delete":
            lines += [f"       {c.render()}" for c in self.changes]
        return "\n".join(lines)


@dataclass
class Plan:
    stack: str
    action: str
    """``preview``, ``up``, ``refresh`` or ``destroy``."""
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def step(self, name: str) -> Step | None:
        """The step for the resource ``name`` (not counting the deletion of a replaced predecessor)."""
        found = [s for s in self.steps if s.name == name]
        main = [s for s in found if s.note != "replaced"]
        chosen = main or found
        return chosen[-1] if chosen else None

    def ops(self) -> dict[str, str]:
        """Resource name -> op (deletions of replaced predecessors left out)."""
        return {s.name: s.op for s in self.steps if s.note != "replaced"}

    def counts(self) -> dict[str, int]:
        out = {op: 0 for op in OPS}
        for s in self.steps:
            if s.note != "replaced":
                out[s.op] = out.get(s.op, 0) + 1
        return out

    @property
    def has_changes(self) -> bool:
        return any(s.op != "same" for s in self.steps)

    def render(self) -> str:
        title = {
            "preview": "Previewing",
            "up": "Applied",
            "refresh": "Refreshed",
            "destroy": "Destroyed",
        }.get(self.action, self.action)
        lines = [f"{title} stack {self.stack}:"]
        lines += [f"  warning: {w}" for w in self.warnings]
        for s in self.steps:
            if s.op == "same":
                continue
            lines.append(s.render())
        c = self.counts()
        words = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete"}
        if self.action != "preview":
            words = {"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted"}
            if self.action == "refresh":
                words = {"create": "created", "update": "drifted", "replace": "replaced", "delete": "gone"}
        parts = [f"{c[op]} {words[op]}" for op in ("create", "update", "replace", "delete") if c[op]]
        parts.append(f"{c['same']} unchanged")
        lines.append("Resources: " + ", ".join(parts))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary, secrets masked and unknowns marked as in the printed plan."""
        return {
            "stack": self.stack,
            "action": self.action,
            "warnings": list(self.warnings),
            "steps": [
                {
                    "op": s.op,
                    "type": s.type,
                    "name": s.name,
                    "id": s.id,
                    "note": s.note,
                    "deleteBeforeReplace": s.delete_before_replace,
                    "changes": [
                        {"name": c.name, "kind": c.kind, "replace": c.replace, "old": mask(c.old), "new": mask(c.new)}
                        for c in s.changes
                    ],
                }
                for s in self.steps
            ],
        }

    def __str__(self) -> str:
        return self.render()
