"""PLACEHOLDER for ``credplane.runtime``, used only to type-check and test the generated code.

The real runtime is written separately in ``sdk/python/credplane/runtime/``. The SDK test script
(scripts/test-sdk-gen.sh) copies this file into a scratch copy of ``sdk/python`` only when the
real runtime is absent. It implements exactly the contract the generator relies on:
``Resource(type_name, name, inputs, *, depends_on)``, ``Resource._output(prop)``,
``Output[T]``, ``Input[T] = T | Output[T]``, and ``Secret[T]`` with ``.value`` and a masked repr.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar, Union

T = TypeVar("T")


class Secret(Generic[T]):
    """A value that prints as ``[secret]``."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "[secret]"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and bool(other.value == self.value)

    def __hash__(self) -> int:
        return hash(self.value)


class Output(Generic[T]):
    """A reference to a resource's output property, resolved by the runtime."""

    def __init__(self, resource: Resource, prop: str) -> None:
        self.resource = resource
        self.prop = prop

    def __repr__(self) -> str:
        return f"Output({self.resource.name}.{self.prop})"


Input = Union[T, Output[T]]


class Resource:
    """A resource declared in a stack."""

    def __init__(
        self,
        type_name: str,
        name: str,
        inputs: dict[str, Any],
        *,
        depends_on: Sequence[Resource],
    ) -> None:
        self.type_name = type_name
        self.name = name
        self.inputs = inputs
        self.depends_on = list(depends_on)

    def _output(self, prop: str) -> Output[Any]:
        return Output(self, prop)
