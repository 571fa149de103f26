"""JSON-RPC client for the credplane provider, over stdio (a child process) or HTTP.

Every typed method takes and returns Python values: :class:`~credplane.runtime.secret.Secret`
and :data:`~credplane.runtime.secret.UNKNOWN` are wrapped into and out of the wire envelopes.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import shlex
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import IO, Any, Mapping, Sequence

from .errors import Failure, TransportError, error_from_reply
from .secret import unwrap, wrap

DEFAULT_BINARY = "credplane"


def provider_command(binary: str | None = None, *, sandbox: bool | None = None) -> list[str]:
    """The command that serves the provider over stdio.

    ``binary``, else ``$CREDPLANE_BIN`` (which may hold extra arguments, split like a shell
    would), else ``credplane`` from ``PATH``. ``sandbox`` (default: ``$CREDPLANE_SANDBOX == "1"``)
    adds ``--sandbox``.
    """
    spec = binary or os.environ.get("CREDPLANE_BIN") or DEFAULT_BINARY
    argv = shlex.split(spec)
    if not argv:
        raise TransportError("empty provider command")
    if os.sep in argv[0]:
        if not os.path.exists(argv[0]):
            raise TransportError(f"provider binary {argv[0]!r} does not exist; build it or set CREDPLANE_BIN")
    elif not os.path.exists(argv[0]):
        found = shutil.which(argv[0])
        if found is None:
            raise TransportError(
                f"provider binary {argv[0]!r} not found on PATH; set CREDPLANE_BIN or pass binary="
            )
        argv[0] = found
    if sandbox is None:
        sandbox = os.environ.get("CREDPLANE_SANDBOX") == "1"
    if "serve" not in argv[1:]:
        argv += ["serve", "--stdio"]
    if sandbox and "--sandbox" not in argv:
        argv.append("--sandbox")
    return argv


class _Pending:
    __slots__ = ("event", "reply")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: dict[str, Any] | None = None


class Transport:
    def request(self, message: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class StdioTransport(Transport):
    """Spawns the provider and talks one JSON message per line; replies are matched by id."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self.argv = list(argv)
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env) if env is not None else None,
                bufsize=0,
            )
        except OSError as exc:
            raise TransportError(f"cannot start provider {self.argv[0]!r}: {exc}") from exc
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: dict[int | str, _Pending] = {}
        self._closed: str | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._reader = threading.Thread(target=self._read_loop, args=(self._proc.stdout,), daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=self._drain_stderr, args=(self._proc.stderr,), daemon=True)
        self._err_reader.start()

    def _drain_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip())

    def _read_loop(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            replies = message if isinstance(message, list) else [message]
            for reply in replies:
                if not isinstance(reply, dict):
                    continue
                with self._lock:
                    waiter = self._pending.pop(reply.get("id"), None)  # type: ignore[arg-type]
                if waiter is not None:
                    waiter.reply = reply
                    waiter.event.set()
        self._fail_all("the provider closed its output")

    def _fail_all(self, why: str) -> None:
        with self._lock:
            if self._closed is None:
                self._closed = why
            waiters = list(self._pending.values())
            self._pending.clear()
        for waiter in waiters:
            waiter.event.set()

    def _diagnosis(self) -> str:
        code = self._proc.poll()
        tail = "\n".join(list(self.stderr_tail)[-10:])
        status = f" (exit status {code})" if code is not None else ""
        return f"{self._closed or 'provider gone'}{status}" + (f"; stderr:\n{tail}" if tail else "")

    def request(self, message: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        waiter = _Pending()
        key = message["id"]
        with self._lock:
            if self._closed is not None:
                raise TransportError(self._diagnosis())
            self._pending[key] = waiter
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        try:
            with self._write_lock:
                assert self._proc.stdin is not None
                self._proc.stdin.write(data)
                self._proc.stdin.flush()
        except (OSError, ValueError) as exc:
            with self._lock:
                self._pending.pop(key, None)
            raise TransportError(f"cannot write to the provider: {exc}") from exc
        if not waiter.event.wait(timeout):
            with self._lock:
                self._pending.pop(key, None)
            raise TransportError(f"no reply to {message['method']} within {timeout}s")
        if waiter.reply is None:
            self._reader.join(timeout=1)
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            raise TransportError(self._diagnosis())
        return waiter.reply

    def close(self) -> None:
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._fail_all("client closed")


class HttpTransport(Transport):
    """HTTP POST of each message to ``url`` with ``Authorization: Bearer <token>``."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.token = token

    def request(self, message: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        body = json.dumps(message).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            if not payload:
                raise TransportError(f"HTTP {exc.code} from {self.url}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TransportError(f"cannot reach {self.url}: {exc}") from exc
        try:
            reply = json.loads(payload)
        except ValueError as exc:
            raise TransportError(f"not JSON from {self.url}: {payload[:200]!r}") from exc
        if not isinstance(reply, dict):
            raise TransportError(f"unexpected reply from {self.url}")
        return reply


@dataclass
class CheckResult:
    inputs: dict[str, Any]
    failures: list[Failure] = field(default_factory=list)


@dataclass
class DiffResult:
    changes: bool
    replaces: list[str]
    stables: list[str]
    delete_before_replace: bool
    detailed_diff: dict[str, str]
    """property -> kind (add, add-replace, update, update-replace, delete, delete-replace)."""


@dataclass
class CreateResult:
    id: str
    outputs: dict[str, Any]


@dataclass
class ReadResult:
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Client:
    """A connection to a credplane provider. Thread-safe: calls may be made from several threads."""

    def __init__(self, transport: Transport, *, timeout: float | None = None) -> None:
        """``timeout``: seconds to wait for any reply (``None``: wait as long as the provider works;
        it enforces each resource type's create/update/delete timeouts itself)."""
        self._transport = transport
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()
        self.timeout = timeout

    @classmethod
    def stdio(
        cls,
        binary: str | None = None,
        *,
        sandbox: bool | None = None,
        argv: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> "Client":
        """Spawns ``credplane serve --stdio`` (see :func:`provider_command`), or ``argv`` verbatim."""
        command = list(argv) if argv is not None else provider_command(binary, sandbox=sandbox)
        return cls(StdioTransport(command, env=env), timeout=timeout)

    @classmethod
    def http(cls, url: str, token: str | None = None, *, timeout: float | None = None) -> "Client":
        """Connects to ``credplane serve --listen``; ``token`` defaults to ``$CREDPLANE_TOKEN``."""
        return cls(HttpTransport(url, token or os.environ.get("CREDPLANE_TOKEN")), timeout=timeout)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """Sends one request (params already in Python form) and returns the unwrapped result."""
        with self._id_lock:
            request_id = next(self._ids)
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": wrap(dict(params or {}))}
        try:
            reply = self._transport.request(message, timeout if timeout is not None else self.timeout)
        except KeyboardInterrupt:
            if method != "cancel":
                self._cancel_in_background()
            raise
        if "error" in reply and reply["error"] is not None:
            raise error_from_reply(reply["error"])
        if "result" not in reply:
            raise TransportError(f"reply to {method} has neither result nor error")
        return unwrap(reply["result"])

    def _wait_for(self, timeout_seconds: float | None) -> float | None:
        """How long to wait for a reply: the provider enforces ``timeoutSeconds`` itself (error
        -32003), so the client waits a minute longer than that, and at least ``self.timeout``."""
        if timeout_seconds is None or self.timeout is None:
            return self.timeout
        return max(self.timeout, timeout_seconds + 60)

    def _cancel_in_background(self) -> None:
        """Asks the provider to cancel what is in flight (best effort, does not wait)."""

        def send() -> None:
            try:
                self.call("cancel", {}, timeout=5)
            except Exception:
                pass

        threading.Thread(target=send, daemon=True).start()

    # --- typed protocol methods -------------------------------------------------------------

    def get_schema(self) -> dict[str, Any]:
        return _as_dict(self.call("getSchema", {}))

    def discover(self) -> dict[str, Any]:
        return _as_dict(self.call("rpc.discover", {}))

    def configure(
        self,
        *,
        aws: Mapping[str, Any] | None = None,
        oci: Mapping[str, Any] | None = None,
        alicloud: Mapping[str, Any] | None = None,
        common: Mapping[str, Any] | None = None,
    ) -> Any:
        params = {k: dict(v) for k, v in (("aws", aws), ("oci", oci), ("alicloud", alicloud), ("common", common)) if v is not None}
        return self.call("configure", params)

    def check(self, type: str, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> CheckResult:
        params: dict[str, Any] = {"type": type, "news": dict(news)}
        if olds is not None:
            params["olds"] = dict(olds)
        result = _as_dict(self.call("check", params))
        return CheckResult(_as_dict(result.get("inputs")), Failure.parse(result.get("failures")))

    def diff(
        self,
        type: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        ignore_changes: Sequence[str] | None = None,
    ) -> DiffResult:
        params: dict[str, Any] = {"type": type, "id": id, "olds": dict(olds), "news": dict(news)}
        if ignore_changes:
            params["ignoreChanges"] = list(ignore_changes)
        r = _as_dict(self.call("diff", params))
        detailed = {
            str(k): str(v.get("kind", "update")) if isinstance(v, dict) else "update"
            for k, v in _as_dict(r.get("detailedDiff")).items()
        }
        return DiffResult(
            changes=bool(r.get("changes", bool(detailed))),
            replaces=[str(x) for x in r.get("replaces") or []],
            stables=[str(x) for x in r.get("stables") or []],
            delete_before_replace=bool(r.get("deleteBeforeReplace", False)),
            detailed_diff=detailed,
        )

    def create(
        self, type: str, inputs: Mapping[str, Any], *, preview: bool = False, timeout_seconds: float | None = None
    ) -> CreateResult:
        params: dict[str, Any] = {"type": type, "inputs": dict(inputs)}
        if preview:
            params["preview"] = True
        if timeout_seconds is not None:
            params["timeoutSeconds"] = timeout_seconds
        r = _as_dict(self.call("create", params, timeout=self._wait_for(timeout_seconds)))
        return CreateResult(str(r.get("id") or ""), _as_dict(r.get("outputs")))

    def read(
        self,
        type: str,
        id: str,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> ReadResult | None:
        params: dict[str, Any] = {"type": type, "id": id}
        if inputs is not None:
            params["inputs"] = dict(inputs)
        if outputs is not None:
            params["outputs"] = dict(outputs)
        r = self.call("read", params)
        if r is None:
            return None
        r = _as_dict(r)
        return ReadResult(str(r.get("id") or id), _as_dict(r.get("inputs")), _as_dict(r.get("outputs")))

    def update(
        self,
        type: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        preview: bool = False,
        timeout_seconds: float | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"type": type, "id": id, "olds": dict(olds), "news": dict(news)}
        if preview:
            params["preview"] = True
        if timeout_seconds is not None:
            params["timeoutSeconds"] = timeout_seconds
        return _as_dict(_as_dict(self.call("update", params, timeout=self._wait_for(timeout_seconds))).get("outputs"))

    def delete(
        self, type: str, id: str, outputs: Mapping[str, Any], *, timeout_seconds: float | None = None
    ) -> None:
        params: dict[str, Any] = {"type": type, "id": id, "outputs": dict(outputs)}
        if timeout_seconds is not None:
            params["timeoutSeconds"] = timeout_seconds
        self.call("delete", params, timeout=self._wait_for(timeout_seconds))

    def cancel(self) -> None:
        self.call("cancel", {})
