"""JSON-RPC transport to ``credplane`` (a child process over stdio, or HTTP). Requests are
pipelined: :meth:`Client.send` returns a future at once; replies are matched by id."""

from __future__ import annotations

import collections
import itertools
import json
import os
import shlex
import shutil
import subprocess
import threading
import urllib.error, urllib.request  # noqa: E401
from concurrent.futures import Future
from typing import IO, Any, Mapping, Sequence

from .errors import TransportError, error_from_reply
from .secret import unwrap, wrap


def provider_command(binary: str | None = None, *, sandbox: bool | None = None) -> list[str]:
    """``binary``, else ``$CREDPLANE_BIN`` (split like a shell would), else ``credplane`` on PATH,
    with ``serve --stdio`` and, if ``sandbox`` (default ``$CREDPLANE_SANDBOX == "1"``), ``--sandbox``."""
    argv = shlex.split(binary or os.environ.get("CREDPLANE_BIN") or "credplane")
    if not argv:
        raise TransportError("empty provider command")
    found = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    if found is None or not os.path.exists(found):
        raise TransportError(f"provider binary {argv[0]!r} not found; build it or set CREDPLANE_BIN")
    argv[0] = found
    argv += [] if "serve" in argv[1:] else ["serve", "--stdio"]
    if (os.environ.get("CREDPLANE_SANDBOX") == "1" if sandbox is None else sandbox) and "--sandbox" not in argv:
        argv.append("--sandbox")
    return argv


class Client:
    """A connection to the provider and its engine. Use :meth:`stdio` or :meth:`http`."""

    def __init__(self, argv: Sequence[str] | None = None, *, url: str | None = None, token: str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self._ids = itertools.count(1)
        self._lock, self._write_lock = threading.Lock(), threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._url, self._token, self._closed = url, token, ""
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self._proc: subprocess.Popen[bytes] | None = None
        if argv is not None:
            try:
                self._proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, env=dict(env) if env else None, bufsize=0)
            except OSError as exc:
                raise TransportError(f"cannot start provider {argv[0]!r}: {exc}") from exc
            assert self._proc.stdout is not None and self._proc.stderr is not None
            for target, pipe in ((self._read, self._proc.stdout), (self._drain, self._proc.stderr)):  # buffered: readline on a raw pipe is a read(2) per byte
                threading.Thread(target=target, args=(open(pipe.fileno(), "rb", 1 << 16, closefd=False),), daemon=True).start()

    @classmethod
    def stdio(cls, binary: str | None = None, *, sandbox: bool | None = None,
              env: Mapping[str, str] | None = None) -> "Client":
        """Spawns ``credplane serve --stdio [--sandbox]`` (see :func:`provider_command`)."""
        return cls(provider_command(binary, sandbox=sandbox), env=env)

    @classmethod
    def http(cls, url: str, token: str | None = None) -> "Client":
        """JSON-RPC over HTTP POST to a running ``credplane serve --listen`` (or ``credplane up``)."""
        return cls(url=url, token=token)

    def _drain(self, stream: IO[bytes]) -> None:
        self.stderr_tail.extend(raw.decode("utf-8", "replace").rstrip() for raw in iter(stream.readline, b""))

    def _read(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            try:
                reply = json.loads(raw)
            except ValueError:
                continue
            if isinstance(reply, dict):
                with self._lock:
                    future = self._pending.pop(reply.get("id"), None)  # type: ignore[arg-type]
                if future is not None:
                    self._settle(future, reply)
        self._fail_all("the provider closed its output")

    def _settle(self, future: "Future[Any]", reply: dict[str, Any]) -> None:
        if "error" in reply:
            future.set_exception(error_from_reply(reply["error"]))
        else:
            future.set_result(unwrap(reply.get("result")))

    def _diagnosis(self) -> str:
        code = self._proc.poll() if self._proc else None
        tail = "\n".join(list(self.stderr_tail)[-10:])
        return self._closed + (f" (exit status {code})" if code is not None else "") + (f"; stderr:\n{tail}" if tail else "")

    def _fail_all(self, why: str) -> None:
        with self._lock:
            self._closed = self._closed or why
            waiting, self._pending = list(self._pending.values()), {}
        for future in waiting:
            future.set_exception(TransportError(self._diagnosis()))

    def send(self, method: str, params: Mapping[str, Any] | None = None) -> "Future[Any]":
        """Sends a request without waiting; the future holds the result (secrets as Secret)."""
        message = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": wrap(dict(params or {}))}
        future: Future[Any] = Future()
        if self._proc is None:
            self._post(message, future)
            return future
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if self._closed:
                raise TransportError(self._diagnosis())
            self._pending[message["id"]] = future
        # Not under `_lock`: a blocked write waits for replies the reader thread settles under it.
        with self._write_lock:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(data)
            except (OSError, ValueError) as exc:
                self._closed = self._closed or f"cannot write to the provider: {exc}"
        if self._closed:
            self._fail_all(self._closed)
        return future

    def _post(self, message: dict[str, Any], future: "Future[Any]") -> None:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {self._token}"} if self._token else {})}
        request = urllib.request.Request(str(self._url), json.dumps(message).encode(), headers, method="POST")

        def run() -> None:
            try:
                with urllib.request.urlopen(request) as response:
                    self._settle(future, json.loads(response.read()))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                future.set_exception(TransportError(f"{self._url}: {exc}"))

        threading.Thread(target=run, daemon=True).start()

    def call(self, method: str, params: Mapping[str, Any] | None = None, timeout: float | None = None) -> Any:
        """Sends a request and waits for its result."""
        return self.send(method, params).result(timeout)

    def configure(self, **settings: Mapping[str, Any]) -> None:
        """``configure``: settings per cloud (``aws``, ``oci``, ``alicloud``, ``common``)."""
        self.call("configure", settings)

    def close(self) -> None:
        if self._proc is None:
            return
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        self._fail_all("client closed")
