"""Secret values and the wire envelopes: a secret travels as ``{"$credplane": "secret", "value":
<v>}`` and a value unknown in a preview as ``{"$credplane": "unknown"}``. In Python they are
:class:`Secret` and :data:`UNKNOWN`; :func:`wrap` and :func:`unwrap` convert recursively."""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")

ENVELOPE_KEY = "$credplane"
MASK = "[secret]"
UNKNOWN_TEXT = "(unknown)"


class Secret(Generic[T]):
    """A value that is never shown: ``repr``/``str``/``format`` give ``[secret]``. Equality and
    hashing use the wrapped value."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value: T = value.value if isinstance(value, Secret) else value

    @property
    def value(self) -> T:
        """The plaintext value."""
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return bool(self._value == other._value) if isinstance(other, Secret) else NotImplemented

    def __hash__(self) -> int:
        try:
            return hash(("credplane.Secret", self._value))
        except TypeError:
            return hash("credplane.Secret")

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        # Pickling would be a way to leak plaintext into caches or logs; refuse it.
        raise TypeError("credplane.Secret cannot be pickled")


class Unknown:
    """A value that is not known yet (a preview of a resource that does not exist yet)."""

    _instance: "Unknown | None" = None

    def __new__(cls) -> "Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return UNKNOWN_TEXT

    __str__ = __repr__

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> Any:
        return (Unknown, ())


UNKNOWN = Unknown()


def is_secret_envelope(value: Any) -> bool:
    return isinstance(value, dict) and value.get(ENVELOPE_KEY) == "secret" and "value" in value


def wrap(value: Any, hook: Callable[[Any], Any] | None = None) -> Any:
    """Python value -> wire JSON: :class:`Secret` -> secret envelope, :data:`UNKNOWN` -> unknown;
    ``hook`` may first replace any value (the stack turns an ``Output`` into a reference)."""
    if hook is not None and (replaced := hook(value)) is not value:
        return replaced
    if isinstance(value, Secret):
        return {ENVELOPE_KEY: "secret", "value": wrap(value.value, hook)}
    if isinstance(value, Unknown):
        return {ENVELOPE_KEY: "unknown"}
    if isinstance(value, dict):
        return {str(k): wrap(v, hook) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wrap(v, hook) for v in value]
    return value


def unwrap(value: Any) -> Any:
    """Wire JSON -> Python value: secret envelope -> :class:`Secret`, unknown -> :data:`UNKNOWN`."""
    if isinstance(value, dict):
        if is_secret_envelope(value):
            inner = unwrap(value["value"])
            return inner if isinstance(inner, Secret) else Secret(inner)
        if value.get(ENVELOPE_KEY) == "unknown":
            return UNKNOWN
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value

