"""Outputs: references to another resource's output property, resolved at apply time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar, Union

from .secret import Secret, Unknown, UNKNOWN

if TYPE_CHECKING:
    from .resource import Resource

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
U = TypeVar("U")
V = TypeVar("V")


class MissingOutput(ValueError):
    """A :meth:`Output.required` output resolved to no value."""


class Output(Generic[T_co]):
    """The output ``prop`` of ``resource``: sent to the engine as a reference, which it resolves
    (unknown in a preview until known; a secret stays a secret)."""

    __slots__ = ("_resource", "_prop", "_fn")

    def __init__(self, resource: "Resource", prop: str, fn: Callable[[Any], Any] | None = None) -> None:
        self._resource, self._prop, self._fn = resource, prop, fn

    @property
    def resource(self) -> "Resource":
        return self._resource

    @property
    def prop(self) -> str:
        return self._prop

    def apply(self, fn: Callable[[T_co], U]) -> "Output[U]":
        """A derived output: ``fn`` gets the plain value once known (the SDK waits for that
        resource); if it was a secret, ``fn`` gets the plaintext and the result is secret again."""
        prev = self._fn

        def composed(value: Any) -> Any:
            return fn(prev(value) if prev is not None else value)

        return self._with_fn(composed)

    def required(self: "Output[V | None]") -> "Output[V]":
        """The same output typed without ``None`` (an optional attribute the program knows is
        set); fails with :class:`MissingOutput` if it is absent, rather than sending ``null``."""
        where = f"{self._resource.name}.{self._prop}"

        def present(value: Any) -> Any:
            if value is None:
                raise MissingOutput(f"{where} has no value (is it returned only in some configurations?)")
            return value

        return self.apply(present)

    @staticmethod
    def all(*outputs: "Output[Any]") -> "Output[list[Any]]":
        """One output holding the list of the values of ``outputs`` (unknown if any is unknown,
        secret if any is secret); combine with ``.apply``."""
        if not outputs:
            raise ValueError("Output.all needs at least one output")
        return _AllOutput(list(outputs))

    def _with_fn(self, fn: Callable[[Any], Any]) -> "Output[Any]":
        return Output(self._resource, self._prop, fn)

    def _sources(self) -> list["Output[Any]"]:
        return [self]

    def _resolve(self, lookup: Callable[["Resource", str], Any]) -> Any:
        return self._transform(lookup(self._resource, self._prop))

    def _transform(self, raw: Any) -> Any:
        if isinstance(raw, Unknown):
            return UNKNOWN
        if self._fn is None:
            return raw
        if isinstance(raw, Secret):
            result = self._fn(raw.value)
            return result if isinstance(result, (Secret, Unknown)) else Secret(result)
        return self._fn(raw)

    def __repr__(self) -> str:
        suffix = ".apply(...)" if self._fn is not None else ""
        return f"Output({self._resource.name}.{self._prop}{suffix})"

    def __bool__(self) -> bool:
        raise TypeError("an Output has no value while the program runs; pass it as an input, or use .apply()")


class _AllOutput(Output[list[Any]]):
    __slots__ = ("_parts",)

    def __init__(self, parts: list[Output[Any]], fn: Callable[[Any], Any] | None = None) -> None:
        super().__init__(parts[0].resource, parts[0].prop, fn)
        self._parts = parts

    def _with_fn(self, fn: Callable[[Any], Any]) -> Output[Any]:
        return _AllOutput(self._parts, fn)

    def _sources(self) -> list[Output[Any]]:
        return [src for part in self._parts for src in part._sources()]

    def _resolve(self, lookup: Callable[["Resource", str], Any]) -> Any:
        values = [part._resolve(lookup) for part in self._parts]
        if any(isinstance(v, Unknown) for v in values):
            return UNKNOWN
        secret = any(isinstance(v, Secret) for v in values)
        plain = [v.value if isinstance(v, Secret) else v for v in values]
        result = self._fn(plain) if self._fn is not None else plain
        return Secret(result) if secret and not isinstance(result, Secret) else result

    def __repr__(self) -> str:
        return "Output.all(" + ", ".join(repr(p) for p in self._parts) + ")"


Input = Union[T, Output[T]]
"""A plain value or an :class:`Output` of another resource."""


def collect_outputs(value: Any) -> list[Output[Any]]:
    """Every :class:`Output` nested in ``value``."""
    found: list[Output[Any]] = []

    def walk(v: Any) -> None:
        if isinstance(v, Output):
            found.extend(v._sources())
        elif isinstance(v, Secret):
            walk(v.value)
        elif isinstance(v, (dict, list, tuple)):
            for item in v.values() if isinstance(v, dict) else v:
                walk(item)

    walk(value)
    return found
