"""Outputs: references to another resource's output property, resolved at apply time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar, Union

from .secret import UNKNOWN, Secret, Unknown, wrap

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
    (unknown in a preview until known; a secret stays a secret). :meth:`all` combines outputs:
    then ``parts`` holds them, and ``resource``/``prop`` are the first one's."""

    __slots__ = ("_resource", "_prop", "_fn", "_parts")

    def __init__(self, resource: "Resource", prop: str, fn: Callable[[Any], Any] | None = None,
                 parts: "list[Output[Any]] | None" = None) -> None:
        self._resource, self._prop, self._fn, self._parts = resource, prop, fn, parts

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

        return Output(self._resource, self._prop, composed, self._parts)

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
        return Output(outputs[0].resource, outputs[0].prop, None, list(outputs))

    def _sources(self) -> list["Output[Any]"]:
        return [self] if self._parts is None else [src for part in self._parts for src in part._sources()]

    def _resolve(self, lookup: Callable[["Resource", str], Any]) -> Any:
        if self._parts is None:
            return self._transform(lookup(self._resource, self._prop))
        values = [part._resolve(lookup) for part in self._parts]
        if any(isinstance(v, Unknown) for v in values):
            return UNKNOWN
        secret = any(isinstance(v, Secret) for v in values)
        plain = [v.value if isinstance(v, Secret) else v for v in values]
        return self._transform(Secret(plain) if secret else plain)

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
        if self._parts is not None:
            return "Output.all(" + ", ".join(repr(p) for p in self._parts) + ")"
        suffix = ".apply(...)" if self._fn is not None else ""
        return f"Output({self._resource.name}.{self._prop}{suffix})"

    def __bool__(self) -> bool:
        raise TypeError("an Output has no value while the program runs; pass it as an input, or use .apply()")


Input = Union[T, Output[T]]
"""A plain value or an :class:`Output` of another resource."""


def collect_outputs(value: Any) -> list[Output[Any]]:
    """Every :class:`Output` nested in ``value`` (found by the same walk that encodes it)."""
    found: list[Output[Any]] = []

    def visit(v: Any) -> Any:
        if isinstance(v, Output):
            found.extend(v._sources())
            return None
        return v

    wrap(value, visit)
    return found
