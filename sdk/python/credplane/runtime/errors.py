"""Exceptions raised by the credplane runtime, mapped from the JSON-RPC error codes."""

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
        out: list[Failure] = []
        if isinstance(items, list):
            for item in items:
                if isinstance(item, Mapping):
                    out.append(Failure(str(item.get("property", "")), str(item.get("reason", ""))))
        return out


class CredplaneError(Exception):
    """Base class of every error raised by the runtime."""


class TransportError(CredplaneError):
    """The provider could not be reached, died, or sent something that is not JSON-RPC."""


class CheckFailed(CredplaneError):
    """``check`` reported failures for a resource's inputs."""

    def __init__(self, failures: Sequence[Failure], resource: str | None = None) -> None:
        self.failures = list(failures)
        self.resource = resource
        where = f"{resource}: " if resource else ""
        detail = "; ".join(f"{f.property or '(resource)'}: {f.reason}" for f in self.failures)
        super().__init__(f"{where}invalid inputs: {detail}")


class StateError(CredplaneError):
    """The state file is unreadable, inconsistent, or cannot be decrypted."""


class PassphraseRequired(StateError):
    """The state holds (or will hold) secrets and ``CREDPLANE_PASSPHRASE`` is not set."""


class PendingOperationError(StateError):
    """An earlier run was interrupted during a create whose result could not be reconciled."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        super().__init__(
            "an earlier run was interrupted while creating "
            + ", ".join(self.names)
            + ": the resource may exist in the cloud with an unknown id. Call "
            "Stack.resolve_pending(name, id=...) to adopt it, or Stack.resolve_pending(name) to "
            "forget the marker after checking that nothing was created."
        )


class RpcError(CredplaneError):
    """A JSON-RPC error reply. ``code``, ``message`` and ``data`` are as sent by the provider."""

    code: int = 0

    def __init__(self, code: int, message: str, data: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.message = message
        self.data: dict[str, Any] = dict(data or {})
        self.failures = Failure.parse(self.data.get("failures"))
        self.retryable = bool(self.data.get("retryable", False))
        self.cloud_code: str | None = self.data.get("cloudCode")
        self.request_id: str | None = self.data.get("requestId")
        super().__init__(f"[{code}] {message}")


class ParseError(RpcError):
    code = -32700


class InvalidRequest(RpcError):
    code = -32600


class MethodNotFound(RpcError):
    code = -32601


class InvalidParams(RpcError):
    code = -32602


class CloudError(RpcError):
    """The cloud refused or failed the call (``cloud_code``, ``request_id``, ``retryable``)."""

    code = -32001


class Cancelled(RpcError):
    code = -32002


class Timeout(RpcError):
    code = -32003


class PartiallyCreated(RpcError):
    """The resource exists (``id``, ``outputs``) but a later step of its creation failed."""

    code = -32004

    def __init__(self, code: int, message: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(code, message, data)
        from .secret import unwrap

        self.id: str = str(self.data.get("id") or "")
        outputs = unwrap(self.data.get("outputs") or {})
        self.outputs: dict[str, Any] = outputs if isinstance(outputs, dict) else {}


class ConfigurationError(RpcError):
    code = -32005


class Unsupported(RpcError):
    code = -32006


_BY_CODE: dict[int, type[RpcError]] = {
    cls.code: cls
    for cls in (
        ParseError,
        InvalidRequest,
        MethodNotFound,
        InvalidParams,
        CloudError,
        Cancelled,
        Timeout,
        PartiallyCreated,
        ConfigurationError,
        Unsupported,
    )
}


def error_from_reply(error: Any) -> RpcError:
    """Builds the exception for a JSON-RPC ``error`` member."""
    if not isinstance(error, Mapping):
        return RpcError(-32603, f"malformed error reply: {error!r}")
    code = error.get("code")
    code = code if isinstance(code, int) else -32603
    message = str(error.get("message", ""))
    data = error.get("data")
    cls = _BY_CODE.get(code, RpcError)
    return cls(code, message, data if isinstance(data, Mapping) else None)
