"""Exceptions raised by the runtime, one class per JSON-RPC error code (docs/engine.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class Failure:
    """One validation failure: the property (dotted path, or empty) and why."""

    property: str
    reason: str

    @staticmethod
    def parse(items: Any) -> list["Failure"]:
        items = items if isinstance(items, list) else []
        return [Failure(str(i.get("property", "")), str(i.get("reason", ""))) for i in items if isinstance(i, Mapping)]


class CredplaneError(Exception):
    """Base class of every error raised by the runtime."""


class TransportError(CredplaneError):
    """The provider could not be reached, died, or sent something that is not JSON-RPC."""


class RpcError(CredplaneError):
    """A JSON-RPC error reply: ``code``, ``message`` and ``data`` as sent by the engine."""

    code: int = 0

    def __init__(self, code: int, message: str, data: Mapping[str, Any] | None = None) -> None:
        self.code, self.message, self.data = code, message, dict(data or {})
        self.failures = Failure.parse(self.data.get("failures"))
        self.retryable = bool(self.data.get("retryable", False))
        self.cloud_code: str | None = self.data.get("cloudCode")
        self.request_id: str | None = self.data.get("requestId")
        super().__init__(f"[{code}] {message}")


def _kind(name: str, code: int, doc: str, base: type[RpcError] = RpcError) -> type[RpcError]:
    return type(name, (base,), {"code": code, "__doc__": doc, "__module__": __name__})


InvalidParams = _kind("InvalidParams", -32602, "Bad params or inputs; ``failures`` names each property and rule.")
CheckFailed = InvalidParams
CloudError = _kind("CloudError", -32001, "The cloud refused or failed the call (``cloud_code``, ``request_id``).")
Cancelled = _kind("Cancelled", -32002, "The operation was cancelled.")
Timeout = _kind("Timeout", -32003, "The operation did not finish within its timeout.")
ConfigurationError = _kind("ConfigurationError", -32005, "Credentials or settings for a cloud are missing or wrong.")
Unsupported = _kind("Unsupported", -32006, "Not supported for this resource type.")
StateError = _kind("StateError", -32010, "Wrong or missing passphrase, corrupted or tampered state.")
PassphraseRequired = _kind("PassphraseRequired", -32010, "``CREDPLANE_PASSPHRASE`` is not set.", StateError)
Locked = _kind("Locked", -32011, "Another engine holds the stack's lock (named with its age).")
Protected = _kind("Protected", -32012, "A protected resource would have been deleted.")
DependencyFailed = _kind("DependencyFailed", -32013, "Not applied: a resource it depends on failed.")
MayExist = _kind("MayExist", -32014, "An interrupted create may have left a resource behind.")


class PartiallyCreated(RpcError):
    """The resource exists (``id``, ``outputs``) but a later step of its creation failed."""

    code = -32004

    def __init__(self, code: int, message: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(code, message, data)
        from .secret import unwrap

        self.id: str = str(self.data.get("id") or "")
        self.outputs: dict[str, Any] = unwrap(self.data.get("outputs") or {})


_BY_CODE: dict[int, type[RpcError]] = {
    c.code: c for c in (InvalidParams, CloudError, Cancelled, Timeout, PartiallyCreated, ConfigurationError,
                        Unsupported, StateError, Locked, Protected, DependencyFailed, MayExist)
}


def error_from_reply(error: Any) -> RpcError:
    """The exception for a JSON-RPC ``error`` member."""
    if not isinstance(error, Mapping):
        return RpcError(-32603, f"malformed error reply: {error!r}")
    raw = error.get("code")
    code: int = raw if isinstance(raw, int) else -32603
    message, data = str(error.get("message", "")), error.get("data")
    cls = _BY_CODE.get(code, RpcError)
    if cls is StateError and message.startswith("set CREDPLANE_PASSPHRASE"):
        cls = PassphraseRequired
    return cls(code, message, data if isinstance(data, Mapping) else None)


__all__: Sequence[str] = [n for n in dir() if n[0].isupper()]
