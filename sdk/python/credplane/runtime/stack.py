"""A small facade over the engine: ``Stack(name, program).up()`` opens a deployment, registers
every resource the program declares (pipelined: nothing waits except ``apply`` callbacks),
and closes it. The engine (``credplane``) plans, orders, runs the steps and keeps the state."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import Future
from typing import Any, Callable, Mapping, TextIO

from .client import Client
from .errors import RpcError
from .output import Output, collect_outputs
from .plan import Plan
from .resource import Resource, _collectors, collecting
from .secret import Secret, wrap

Program = Callable[[], Any]


def _is_plain(o: Output[Any]) -> bool:
    return o._fn is None and o._parts is None


class Stack:
    """A named set of resources declared by ``program`` (or inside ``with stack:``)."""

    def __init__(self, name: str, program: Program | None = None, *, state_path: str | os.PathLike[str] | None = None,
                 backend: str | None = None, client: Client | None = None, passphrase: str | None = None,
                 out: TextIO | None = sys.stdout, binary: str | None = None, sandbox: bool | None = None,
                 parallelism: int | None = None, config: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.name, self._program, self._out = name, program, out
        self.backend = os.fspath(state_path) if state_path is not None else backend
        self._client, self._owns_client = client, client is None
        self._binary, self._sandbox, self._parallelism = binary, sandbox, parallelism
        self._passphrase, self._config = passphrase, {k: dict(v) for k, v in (config or {}).items()}
        self._declared: list[Resource] = []
        self._resources: dict[str, dict[str, Any]] = {}

    @property
    def client(self) -> Client:
        if self._client is None:
            url = os.environ.get("CREDPLANE_ENGINE")
            self._client = Client.http(url, os.environ.get("CREDPLANE_ENGINE_TOKEN")) if url else Client.stdio(self._binary, sandbox=self._sandbox)
        if self._config:  # sent once, before the first call
            self._client.configure(**self._config)
            self._config = {}
        return self._client

    def close(self) -> None:
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None

    def __enter__(self) -> "Stack":
        self._declared = []
        _collectors().append(self._declared)
        return self

    def __exit__(self, *exc: object) -> None:
        _collectors().pop()
        self.close()

    def preview(self) -> Plan:
        """What :meth:`up` would do; nothing changes."""
        return self._run("preview")

    def up(self) -> Plan:
        """Creates, updates, replaces and deletes until the cloud matches the program."""
        return self._run("up")

    def refresh(self) -> Plan:
        """Reads every resource: records drift, forgets what no longer exists."""
        return self._run("refresh")

    def destroy(self) -> Plan:
        """Deletes every resource of the stack, dependents first."""
        return self._run("destroy")

    def outputs(self, name: str) -> dict[str, Any]:
        """The outputs of ``name`` after the last operation (secrets stay :class:`Secret`)."""
        if name not in self._resources:
            raise KeyError(name)
        return dict(self._resources[name].get("outputs") or {})

    def state(self) -> dict[str, dict[str, Any]]:
        """Every resource after the last operation: name -> ``{"type", "id", "outputs"}``."""
        return {k: dict(v) for k, v in self._resources.items()}

    def _declare(self) -> list[Resource]:
        with collecting() as resources:
            self._program() if self._program is not None else resources.extend(self._declared)
        return resources

    def _run(self, action: str) -> Plan:
        resources = self._declare() if action in ("up", "preview") else []
        given = os.environ.get("CREDPLANE_DEPLOYMENT") if os.environ.get("CREDPLANE_ENGINE") else None
        deployment = given
        if deployment is None:
            params = {"stack": self.name, "action": action, "backend": self.backend, "parallelism": self._parallelism,
                      "passphrase": None if self._passphrase is None else Secret(self._passphrase)}
            params = {k: v for k, v in params.items() if v is not None}
            deployment = self.client.call("engine.open", params)["deployment"]
        replies: dict[str, Future[Any]] = {}
        self._sent: list[threading.Event] = []
        for r in resources:
            self._register(deployment, r, replies)
        for sent in self._sent:  # every registration is on its way (its reply may come at close)
            sent.wait()
        if given is not None:  # `credplane up -- program`: the CLI closes and prints
            for f in replies.values():
                if f.exception():
                    raise f.exception()  # type: ignore[misc]
            return Plan(self.name, action)
        try:
            result = self.client.call("engine.close", {"deployment": deployment, "registrations": len(self._sent)})
        except RpcError as exc:
            if self._out is not None and exc.data.get("plan"):
                print(exc.data["plan"], file=self._out, flush=True)
            raise
        self._resources = dict(result.get("resources") or {})
        outputs = {n: v.get("outputs") or {} for n, v in self._resources.items()}
        outputs.update({n: f.result()["outputs"] for n, f in replies.items() if not f.exception()})
        plan = Plan.from_reply(self.name, action, result, outputs)
        if self._out is not None:
            print(plan.text, file=self._out, flush=True)
        return plan

    def _register(self, deployment: str, r: Resource, replies: dict[str, Future[Any]]) -> None:
        """Sends ``r`` once the sources of its ``apply`` callbacks replied; plain references go
        to the engine as reference envelopes, so most registrations are sent at once."""
        out: Future[Any] = Future()
        replies[r.name] = out
        done = threading.Event()
        self._sent.append(done)
        waits = [replies[o.resource.name] for o in collect_outputs(r._inputs)
                 if not _is_plain(o) and o.resource.name in replies]
        sent = threading.Lock()

        def send(_: object = None) -> None:
            if any(not w.done() for w in waits) or not sent.acquire(blocking=False):
                return
            try:
                inputs = self._encode(r._inputs, replies)
                options = {**r._options, **({"dependsOn": [d.name for d in r._depends_on]} if r._depends_on else {})}
                reply = self.client.send("engine.register", {"deployment": deployment, "type": r.type_name, "name": r.name,
                                                            "inputs": inputs, "options": options})
            except BaseException as exc:  # noqa: BLE001 - surfaced through the future
                out.set_exception(exc)
                return
            finally:
                done.set()
            reply.add_done_callback(lambda f: out.set_exception(e) if (e := f.exception()) else out.set_result(f.result()))

        for w in waits:
            w.add_done_callback(send)
        send()

    def _encode(self, value: Any, replies: dict[str, Future[Any]]) -> Any:
        """Wire JSON; a plain Output becomes a reference, an applied one its computed value."""
        def lookup(res: Resource, prop: str) -> Any:
            reply = replies[res.name].result()
            return reply["outputs"].get(prop, reply["id"] if prop == "id" else None)

        def output(v: Any) -> Any:
            if not isinstance(v, Output):
                return v
            if _is_plain(v):
                return {"$credplane": "ref", "resource": v.resource.name, "property": v.prop}
            return wrap(v._resolve(lookup))

        return wrap(value, output)
