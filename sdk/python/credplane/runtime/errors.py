"""The runtime's exceptions: their bases, and the mapping of an error reply to the class of its
code (one per code of the OpenRPC document, written by sdk-gen into :mod:`credplane._codes`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .secret import unwrap


@dataclass(frozen=True)
class Failure:
    """One validation failure: the property (dotted path, or empty) and why."""

    property: str
    reason: str


class CredplaneError(Exception):
    """Base class of every error raised by the runtime."""


class TransportError(CredplaneError):
    """The provider could not be reached, died, or sent something that is not JSON-RPC."""


class RpcError(CredplaneError):
    """A JSON-RPC error reply: ``code``, ``message`` and ``data`` as sent by the engine (the
    members of ``data`` every code may carry are attributes)."""

    code: int = 0

    def __init__(self, code: int, message: str, data: Mapping[str, Any] | None = None) -> None:
        self.code, self.message, self.data = code, message, dict(data or {})
        failures = self.data.get("failures")
        self.failures = [Failure(str(f.get("property", "")), str(f.get("reason", "")))
                         for f in (failures if isinstance(failures, list) else []) if isinstance(f, Mapping)]
        self.retryable = bool(self.data.get("retryable", False))
        self.cloud_code: str | None = self.data.get("cloudCode")
        self.request_id: str | None = self.data.get("requestId")
        self.id: str = str(self.data.get("id") or "")  # PartiallyCreated: what exists
        self.outputs: dict[str, Any] = unwrap(self.data.get("outputs") or {})
        super().__init__(f"[{code}] {message}")


# The generated classes extend RpcError, so they are imported once it exists.
from credplane._codes import BY_CODE  # noqa: E402


def error_from_reply(error: Any) -> RpcError:
    """The exception for a JSON-RPC ``error`` member."""
    if not isinstance(error, Mapping):
        return RpcError(-32603, f"malformed error reply: {error!r}")
    code = error["code"] if isinstance(error.get("code"), int) else -32603
    message, data = str(error.get("message", "")), error.get("data")
    return BY_CODE.get(code, RpcError)(code, message, data if isinstance(data, Mapping) else None)
