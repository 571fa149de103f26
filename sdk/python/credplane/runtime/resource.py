"""The base class of every resource, and the registration context that collects them."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Mapping, Sequence

from .output import Output
from .secret import unwrap

_local = threading.local()
_OPTIONS = {"ignoreChanges", "deleteBeforeReplace", "replaceOnChanges", "protect", "retainOnDelete", "customTimeouts", "import"}


def _collectors() -> list[list["Resource"]]:
    if not hasattr(_local, "collectors"):
        _local.collectors = []
    return _local.collectors  # type: ignore[no-any-return]


@contextlib.contextmanager
def collecting() -> Iterator[list["Resource"]]:
    """Every :class:`Resource` constructed inside the block (in this thread) is appended to the list."""
    into: list[Resource] = []
    _collectors().append(into)
    try:
        yield into
    finally:
        _collectors().pop()


class Resource:
    """A declared resource: its type, a name unique in the stack, its inputs (which may hold
    :class:`Output` references to other resources: implicit dependencies) and options.

    Generated subclasses expose typed outputs; to leave them every public name, the base class
    keeps its state in underscore attributes and only adds ``type_name``, ``name``, ``inputs``,
    ``depends_on`` and :meth:`set_options`.
    """

    def __init__(self, type_name: str, name: str, inputs: Mapping[str, Any], *, depends_on: Sequence["Resource"] = (),
                 ignore_changes: Sequence[str] = (), timeouts: Mapping[str, float] | None = None, **options: Any) -> None:
        self._type_name, self._name = type_name, name
        self._given_inputs = {k: v for k, v in dict(inputs).items() if v is not None}
        # Wire envelopes (as produced by generated code) become Secret / UNKNOWN; Outputs stay.
        self._inputs: dict[str, Any] = unwrap(self._given_inputs)
        self._depends_on: list[Resource] = list(depends_on)
        self._options: dict[str, Any] = {}
        self.set_options(ignore_changes=ignore_changes, custom_timeouts=timeouts, **options)
        if _collectors():
            _collectors()[-1].append(self)

    @property
    def type_name(self) -> str:
        return self._type_name

    @property
    def name(self) -> str:
        return self._name

    @property
    def inputs(self) -> dict[str, Any]:
        """The inputs as given (``None`` values dropped), Outputs and secrets in place."""
        return dict(self._given_inputs)

    @property
    def depends_on(self) -> list["Resource"]:
        return list(self._depends_on)

    def set_options(self, **options: Any) -> "Resource":
        """Resource options (docs/engine.md), snake_case: ``depends_on``, ``ignore_changes``,
        ``delete_before_replace``, ``replace_on_changes``, ``protect``, ``retain_on_delete``,
        ``custom_timeouts`` ({create, update, delete} seconds), ``import_`` (an id to adopt).
        Returns the resource, so it chains after a generated constructor."""
        for key, value in options.items():
            if key == "depends_on":
                self._depends_on = list(value)
                continue
            wire = "import" if key == "import_" else "".join(p if i == 0 else p.title() for i, p in enumerate(key.split("_")))
            if wire not in _OPTIONS:
                raise TypeError(f"unknown resource option {key!r}")
            if value in (None, False, (), [], {}):
                self._options.pop(wire, None)
            else:
                self._options[wire] = list(value) if isinstance(value, (list, tuple)) else value
        return self

    def _output(self, prop: str) -> Output[Any]:
        """A reference to the output property ``prop`` of this resource."""
        return Output(self, prop)

    def __repr__(self) -> str:
        return f"<{self._type_name} {self._name!r}>"
