"""The stack engine: preview, up, refresh and destroy over a local state file.

Crash safety: the state is written after every single operation. Before a ``create`` a pending
marker is recorded; when the create's outcome is known the marker is replaced by the resource
(or dropped). A later run reconciles any marker left by an interrupted run (see
:meth:`Stack.resolve_pending`). A replaced resource is moved to ``pendingDeletes`` before its
successor is created and deleted at the end of the run, after its dependents were updated to the
successor (create-before-delete), so an interruption never loses track of it.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Iterable, Mapping, Sequence, TextIO

from .client import Client
from .errors import (
    CheckFailed,
    CredplaneError,
    PartiallyCreated,
    PendingOperationError,
    RpcError,
    Timeout,
    Unsupported,
)
from .output import resolve
from .plan import Plan, PropertyChange, Step
from .resource import Resource, _collectors, collecting
from .secret import UNKNOWN, Secret, reveal
from .state import PendingOperation, ResourceState, StackState, StateFile

Program = Callable[[], Any]

#: Types whose id can be derived from the inputs, so an interrupted create can be looked up.
IMPORT_ID_FROM_INPUTS: dict[str, str] = {"alicloud_kms_secret": "secret_name"}


def _topo(names: Sequence[str], deps: dict[str, list[str]]) -> list[str]:
    """Dependency order (dependencies first), stable with respect to ``names``."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise CredplaneError("dependency cycle: " + " -> ".join(path + [n]))
        state[n] = 1
        for d in deps.get(n, []):
            if d in deps:
                visit(d, path + [n])
        state[n] = 2
        order.append(n)

    for n in names:
        visit(n, [])
    return order


class Stack:
    """A named set of resources declared by ``program`` and tracked in a state file.

    ``program`` is called (with resources registering into this stack) at the start of each
    operation. Alternatively declare resources inside ``with stack:``. The provider ``client``
    defaults to ``credplane serve --stdio`` (see :meth:`Client.stdio`), which the stack closes in
    :meth:`close`.
    """

    def __init__(
        self,
        name: str,
        program: Program | None = None,
        *,
        state_path: str | os.PathLike[str] | None = None,
        client: Client | None = None,
        passphrase: str | None = None,
        out: TextIO | None = sys.stdout,
        binary: str | None = None,
        sandbox: bool | None = None,
        scrypt_n: int | None = None,
        after_operation: Callable[[str, str], None] | None = None,
        config: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.name = name
        self._program = program
        self._state_file = StateFile(
            state_path if state_path is not None else os.path.join(".credplane", f"{name}.state.json"),
            passphrase,
            scrypt_n=scrypt_n,
        )
        self._client = client
        self._owns_client = client is None
        self._binary = binary
        self._sandbox = sandbox
        self._out = out
        self._declared: list[Resource] = []
        self._collecting = False
        self._config = {k: dict(v) for k, v in (config or {}).items()}
        """Sent with ``configure`` (keys ``aws``, ``oci``, ``alicloud``, ``common``) before the first call."""
        self._configured = False
        self.after_operation = after_operation
        """Called as ``after_operation(op, name)`` after each operation is recorded (tests use it)."""

    # --- plumbing ------------------------------------------------------------------------

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client.stdio(self._binary, sandbox=self._sandbox)
            self._configured = False
        if self._config and not self._configured:
            self._configured = True
            self._client.configure(**self._config)
        return self._client

    @property
    def state_path(self) -> str:
        return self._state_file.path

    def close(self) -> None:
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None

    def __enter__(self) -> "Stack":
        self._declared = []
        _collectors().append(self._declared)
        self._collecting = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._collecting:
            _collectors().pop()
            self._collecting = False
        self.close()  # an owned provider process; it is started again if the stack is used later

    def _print(self, text: str) -> None:
        if self._out is not None:
            print(text, file=self._out, flush=True)

    def _declare(self) -> list[Resource]:
        if self._program is not None:
            with collecting() as resources:
                self._program()
        else:
            resources = list(self._declared)
        seen: set[str] = set()
        for r in resources:
            if r.name in seen:
                raise CredplaneError(f"two resources are named {r.name!r}")
            seen.add(r.name)
        for r in resources:
            for d in r._dependencies():
                if d.name not in seen or all(d is not x for x in resources):
                    raise CredplaneError(f"{r.name} depends on {d.name}, which is not declared in this stack")
        by_name = {r.name: r for r in resources}
        order = _topo([r.name for r in resources], {r.name: [d.name for d in r._dependencies()] for r in resources})
        return [by_name[n] for n in order]

    def _save(self, state: StackState, op: str, name: str) -> None:
        if self._state_file.write_only is None:
            self._state_file.write_only = _write_only_inputs(self.client.get_schema())
        self._state_file.save(state)
        if self.after_operation is not None:
            self.after_operation(op, name)

    def _load(self) -> StackState:
        return self._state_file.load(self.name)

    # --- queries -------------------------------------------------------------------------

    def state(self) -> StackState:
        """The current state (secrets decrypted as :class:`Secret`)."""
        return self._load()

    def outputs(self, name: str) -> dict[str, Any]:
        """The recorded outputs of the resource ``name`` (secrets stay :class:`Secret`)."""
        r = self._load().get(name)
        if r is None:
            raise KeyError(name)
        return dict(r.outputs)

    # --- pending operations ----------------------------------------------------------------

    def _reconcile(self, state: StackState) -> None:
        unresolved: list[str] = []
        for p in list(state.pending):
            prop = IMPORT_ID_FROM_INPUTS.get(p.type)
            import_id = reveal(p.inputs.get(prop)) if prop else None
            if not isinstance(import_id, str) or not import_id:
                unresolved.append(p.name)
                continue
            found = self.client.read(p.type, import_id, inputs=p.inputs)
            state.pending.remove(p)
            if found is not None:
                state.put(ResourceState(p.type, p.name, found.id, dict(found.inputs or p.inputs), found.outputs, p.dependencies))
                self._print(f"  adopted {p.type} {p.name} (id {found.id}) created by an interrupted run")
            self._save(state, "reconcile", p.name)
        if unresolved:
            raise PendingOperationError(unresolved)

    def resolve_pending(self, name: str, id: str | None = None) -> None:
        """Settles the marker of an interrupted create of ``name``.

        With ``id``: reads that resource and records it in the state (nothing is duplicated).
        Without: forgets the marker (after you checked that nothing was created).
        """
        with self._state_file.locked():
            state = self._load()
            marker = next((p for p in state.pending if p.name == name), None)
            if marker is None:
                raise KeyError(f"no pending operation for {name}")
            state.pending.remove(marker)
            if id is not None:
                found = self.client.read(marker.type, id, inputs=marker.inputs)
                if found is None:
                    raise CredplaneError(f"{marker.type} {id} does not exist")
                state.put(ResourceState(marker.type, name, found.id, dict(found.inputs or marker.inputs), found.outputs, marker.dependencies))
            self._save(state, "resolve", name)

    # --- operations ----------------------------------------------------------------------

    def preview(self) -> Plan:
        """What :meth:`up` would do. Nothing is changed, in the cloud or in the state."""
        plan = self._run(apply=False)
        self._print(plan.render())
        return plan

    def up(self) -> Plan:
        """Creates, updates, replaces and deletes until the cloud matches the program.

        On failure, what was done so far is printed (and recorded in the state) before the
        exception propagates; running ``up`` again continues from there.
        """
        plan = Plan(self.name, "up")
        try:
            self._run(apply=True, plan=plan)
        except BaseException as exc:
            if plan.steps:
                plan.warnings.append(f"stopped by {type(exc).__name__}: {exc}; the steps listed were applied")
                self._print(plan.render())
            raise
        self._print(plan.render())
        return plan

    def _run(self, apply: bool, plan: Plan | None = None) -> Plan:
        resources = self._declare()
        with self._state_file.locked():
            state = self._load()
            plan = plan if plan is not None else Plan(self.name, "up" if apply else "preview")
            if apply:
                self._state_file.require_passphrase("resources of every type have secret outputs, stored encrypted")
                self._reconcile(state)
            elif state.pending:
                plan.warnings.append(
                    "interrupted creates pending for " + ", ".join(p.name for p in state.pending)
                )
            known: dict[str, tuple[dict[str, Any], bool]] = {}

            def lookup(res: Resource, prop: str) -> Any:
                outputs, complete = known.get(res.name, ({}, False))
                if prop in outputs:
                    return outputs[prop]
                return None if complete else UNKNOWN

            for r in resources:
                step = self._resource_step(r, state, lookup, apply)
                plan.steps.append(step)
                known[r.name] = (step.outputs, apply or step.op in ("same", "update"))
                r._outputs = step.outputs
                r._id = step.id or None

            declared = {r.name for r in resources}
            gone = [s for s in state.resources if s.name not in declared]
            for s in self._reverse_order(gone):
                if apply:
                    self.client.delete(s.type, s.id, s.outputs)
                    state.remove(s.name)
                    self._save(state, "delete", s.name)
                plan.steps.append(Step("delete", s.type, s.name, s.id, outputs=s.outputs))
            if apply:
                self._finish_pending_deletes(state, plan)
            else:
                for old in state.pending_deletes:
                    plan.steps.append(Step("delete", old.type, old.name, old.id, outputs=old.outputs, note="replaced"))
            return plan

    def _reverse_order(self, items: Iterable[ResourceState]) -> list[ResourceState]:
        items = list(items)
        by_name = {s.name: s for s in items}
        order = _topo([s.name for s in items], {s.name: list(s.dependencies) for s in items})
        return [by_name[n] for n in reversed(order)]

    def _finish_pending_deletes(self, state: StackState, plan: Plan | None = None) -> None:
        for old in list(state.pending_deletes):
            self.client.delete(old.type, old.id, old.outputs)
            state.pending_deletes.remove(old)
            self._save(state, "delete-replaced", old.name)
            if plan is not None:
                plan.steps.append(Step("delete", old.type, old.name, old.id, outputs=old.outputs, note="replaced"))

    def _check(self, r: Resource, news: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        result = self.client.check(r.type_name, news, olds=olds)
        if result.failures:
            raise CheckFailed(result.failures, r.name)
        return result.inputs

    def _create(self, state: StackState, r: Resource, inputs: dict[str, Any], deps: list[str]) -> ResourceState:
        state.pending.append(PendingOperation("create", r.type_name, r.name, inputs, deps))
        self._save(state, "pending-create", r.name)
        marker = state.pending[-1]
        try:
            created = self.client.create(r.type_name, inputs, timeout_seconds=r._timeouts.get("create"))
        except PartiallyCreated as exc:
            state.pending.remove(marker)
            state.put(ResourceState(r.type_name, r.name, exc.id, inputs, exc.outputs, deps, partial=True))
            self._save(state, "partially-created", r.name)
            raise
        except Timeout:
            raise  # the outcome is unknown: keep the marker for the next run to reconcile
        except RpcError:
            state.pending.remove(marker)  # the provider says nothing was created
            self._save(state, "create-failed", r.name)
            raise
        state.pending.remove(marker)
        rs = ResourceState(r.type_name, r.name, created.id, inputs, created.outputs, deps)
        state.put(rs)
        self._save(state, "create", r.name)
        return rs

    def _resource_step(self, r: Resource, state: StackState, lookup: Callable[[Resource, str], Any], apply: bool) -> Step:
        deps = [d.name for d in r._dependencies()]
        news_raw = resolve(r._inputs, lookup)
        old = state.get(r.name)
        if old is not None and old.type != r.type_name:
            # Same name, another type: create the new one, delete the old one at the end.
            news = self._check(r, news_raw, None)
            step = Step("replace", r.type_name, r.name, old.id, [PropertyChange("type", "update", old.type, r.type_name, True)])
            if apply:
                state.remove(old.name)
                state.pending_deletes.append(old)
                self._save(state, "replace-begin", r.name)
                rs = self._create(state, r, news, deps)
                step.id, step.outputs = rs.id, rs.outputs
            else:
                step.outputs = self.client.create(r.type_name, news, preview=True).outputs
            return step

        news = self._check(r, news_raw, old.inputs if old else None)
        if old is None:
            step = Step("create", r.type_name, r.name, None, [PropertyChange(k, "add", None, v) for k, v in sorted(news.items())])
            if apply:
                rs = self._create(state, r, news, deps)
                step.id, step.outputs = rs.id, rs.outputs
            else:
                step.outputs = self.client.create(r.type_name, news, preview=True).outputs
            return step

        diff = self.client.diff(r.type_name, old.id, old.outputs, news, ignore_changes=r._ignore_changes or None)
        changes = []
        for prop, kind in sorted(diff.detailed_diff.items()):
            base, _, rep = kind.partition("-")
            changes.append(PropertyChange(prop, base, old.outputs.get(prop, old.inputs.get(prop)), news.get(prop), bool(rep) or prop in diff.replaces))
        replace = bool(diff.replaces) or any(c.replace for c in changes)
        if not diff.changes and not changes:
            if apply and (old.dependencies != deps or old.partial):
                old.dependencies, old.partial = deps, False
                self._save(state, "same", r.name)
            return Step("same", r.type_name, r.name, old.id, outputs=old.outputs)
        if replace:
            step = Step("replace", r.type_name, r.name, old.id, changes, diff.delete_before_replace)
            if not apply:
                step.outputs = self.client.create(r.type_name, news, preview=True).outputs
                return step
            if diff.delete_before_replace:
                self.client.delete(old.type, old.id, old.outputs, timeout_seconds=r._timeouts.get("delete"))
                state.remove(old.name)
                self._save(state, "delete-for-replace", r.name)
                rs = self._create(state, r, news, deps)
            else:
                state.remove(old.name)
                state.pending_deletes.append(old)
                self._save(state, "replace-begin", r.name)
                rs = self._create(state, r, news, deps)  # the old one is deleted at the end of the run
            step.id, step.outputs = rs.id, rs.outputs
            return step
        step = Step("update", r.type_name, r.name, old.id, changes)
        if not apply:
            try:
                step.outputs = self.client.update(r.type_name, old.id, old.outputs, news, preview=True)
            except Unsupported:
                step.outputs = {**old.outputs, **news}
            return step
        outputs = self.client.update(r.type_name, old.id, old.outputs, news, timeout_seconds=r._timeouts.get("update"))
        state.put(ResourceState(r.type_name, r.name, old.id, news, outputs, deps))
        self._save(state, "update", r.name)
        step.outputs = outputs
        return step

    def refresh(self) -> Plan:
        """Reads every resource: records drift, forgets what no longer exists."""
        with self._state_file.locked():
            state = self._load()
            if state.resources:
                self._state_file.require_passphrase("the refreshed state may hold secrets")
            plan = Plan(self.name, "refresh")
            order = list(reversed(self._reverse_order(state.resources)))
            for s in order:
                found = self.client.read(s.type, s.id, inputs=s.inputs, outputs=s.outputs)
                if found is None:
                    state.remove(s.name)
                    plan.steps.append(Step("delete", s.type, s.name, s.id, note="gone"))
                    self._save(state, "refresh-gone", s.name)
                    continue
                outputs = dict(found.outputs)
                for k, v in s.outputs.items():
                    if outputs.get(k) is None and isinstance(v, Secret):
                        outputs[k] = v  # secrets the cloud only returns at creation
                # Write-only inputs (secrets) are not read back: keep the applied ones.
                inputs = {**s.inputs, **{k: v for k, v in found.inputs.items() if v is not None}}
                changes = []
                for k in sorted(set(s.outputs) | set(outputs)):
                    a, b = s.outputs.get(k), outputs.get(k)
                    if reveal(a) != reveal(b):
                        kind = "add" if a is None else "delete" if b is None else "update"
                        changes.append(PropertyChange(k, kind, a, b))
                plan.steps.append(Step("update" if changes else "same", s.type, s.name, found.id or s.id, changes, outputs=outputs))
                state.put(ResourceState(s.type, s.name, found.id or s.id, inputs, outputs, s.dependencies, s.partial))
                self._save(state, "refresh", s.name)
            self._print(plan.render())
            return plan

    def destroy(self) -> Plan:
        """Deletes every resource in the state, dependents first."""
        with self._state_file.locked():
            state = self._load()
            plan = Plan(self.name, "destroy")
            if state.pending:
                self._reconcile(state)
            for s in self._reverse_order(state.resources):
                self.client.delete(s.type, s.id, s.outputs)
                state.remove(s.name)
                plan.steps.append(Step("delete", s.type, s.name, s.id))
                self._save(state, "delete", s.name)
            self._finish_pending_deletes(state, plan)
            self._print(plan.render())
            return plan


def _write_only_inputs(schema: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Per resource type, the input properties flagged ``x-writeOnly`` in ``getSchema``'s answer."""
    out: dict[str, frozenset[str]] = {}
    for type_name, doc in (schema.get("resources") or {}).items():
        props = (((doc or {}).get("$defs") or {}).get("inputs") or {}).get("properties") or {}
        out[type_name] = frozenset(n for n, p in props.items() if isinstance(p, dict) and p.get("x-writeOnly") is True)
    return out
