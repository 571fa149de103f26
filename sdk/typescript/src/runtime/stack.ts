/**
 * The stack engine: preview, up, refresh and destroy over a local state file — the same
 * behaviour as the Python runtime's stack.py.
 *
 * Crash safety: the state is written after every single operation. Before a `create` a pending
 * marker is recorded; when the create's outcome is known the marker is replaced by the resource
 * (or dropped). A later run reconciles any marker left by an interrupted run (see
 * {@link Stack.resolvePending}). A replaced resource is moved to `pendingDeletes` before its
 * successor is created and deleted at the end of the run, after its dependents were updated to
 * the successor (create-before-delete), so an interruption never loses track of it.
 */
import * as path from "node:path";

import { Client, ConfigureRequest } from "./client";
import {
  CheckFailedError,
  CredplaneError,
  PartiallyCreatedError,
  PendingOperationError,
  StackError,
  TimeoutError,
  UnsupportedError,
} from "./errors";
import { Resource, ResourceCollector, collecting, dependenciesOf, resolveOutputs } from "./output";
import { Plan, PropertyChange, Step } from "./plan";
import { Secret, UNKNOWN } from "./secret";
import { PendingOperation, ResourceState, StackState, StateFile } from "./state";
import { deepEqual, reveal, unwrap, unwrapMap, wrap } from "./values";

/** A program declares resources (synchronously); it is called at the start of each operation. */
export type Program = () => void;

/** Where plans are printed: anything with `write(text)` (process.stdout by default), or null. */
export interface Out {
  write(text: string): unknown;
}

export interface StackOptions {
  /** Default `.credplane/<name>.state.json`. */
  readonly statePath?: string;
  /** The provider; default `credplane serve --stdio` (closed by {@link Stack.close}). */
  readonly client?: Client;
  /** Default `$CREDPLANE_PASSPHRASE`. */
  readonly passphrase?: string;
  /** Default process.stdout; null prints nothing. */
  readonly out?: Out | null;
  /** The provider binary when the stack starts it: default `$CREDPLANE_BIN`, else `credplane`. */
  readonly binary?: string;
  /** Start the provider with `--sandbox` (default: `$CREDPLANE_SANDBOX == "1"`). */
  readonly sandbox?: boolean;
  /** scrypt cost of a new state's key (default 2**15). */
  readonly scryptN?: number;
  /** Called as `afterOperation(op, name)` after each operation is recorded (tests use it). */
  readonly afterOperation?: (op: string, name: string) => void;
  /** Sent with `configure` (keys `aws`, `oci`, `alicloud`, `common`) before the first call. */
  readonly config?: ConfigureRequest;
}

/** Types whose id can be derived from the inputs, so an interrupted create can be looked up. */
export const IMPORT_ID_FROM_INPUTS: Readonly<Record<string, string>> = { alicloud_kms_secret: "secret_name" };

/** Dependency order (dependencies first), stable with respect to `names`. */
function topo(names: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const mark = new Map<string, number>();
  const visit = (n: string, trail: string[]): void => {
    if (mark.get(n) === 2) return;
    if (mark.get(n) === 1) throw new StackError("dependency cycle: " + [...trail, n].join(" -> "));
    mark.set(n, 1);
    for (const d of deps.get(n) ?? []) if (deps.has(d)) visit(d, [...trail, n]);
    mark.set(n, 2);
    order.push(n);
  };
  for (const n of names) visit(n, []);
  return order;
}

const has = (o: Record<string, unknown>, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * A named set of resources declared by `program` and tracked in a state file.
 *
 * `program` is called (with resources registering into this stack) at the start of each
 * operation. Alternatively declare resources with `{ stack }` in their options.
 */
export class Stack implements ResourceCollector {
  /** Resources declared with `{ stack: this }` (used when there is no program). */
  readonly resources: Resource[] = [];
  readonly #program: Program | undefined;
  readonly #stateFile: StateFile;
  #client: Client | undefined;
  readonly #ownsClient: boolean;
  readonly #opts: StackOptions;
  #configured = false;

  constructor(
    readonly name: string = "stack",
    program?: Program,
    opts: StackOptions = {},
  ) {
    this.#program = program;
    this.#opts = opts;
    this.#stateFile = new StateFile(opts.statePath ?? path.join(".credplane", `${name}.state.json`), opts.passphrase, {
      scryptN: opts.scryptN,
    });
    this.#client = opts.client;
    this.#ownsClient = opts.client === undefined;
  }

  // --- plumbing ----------------------------------------------------------------------------

  /** The provider client (started on first use when the stack owns it). */
  async client(): Promise<Client> {
    if (this.#client === undefined) {
      const sandbox = this.#opts.sandbox ?? process.env["CREDPLANE_SANDBOX"] === "1";
      this.#client = Client.stdio({
        binary: this.#opts.binary ?? (process.env["CREDPLANE_BIN"] || "credplane"),
        args: sandbox ? ["--sandbox"] : [],
      });
      this.#configured = false;
    }
    if (this.#opts.config !== undefined && !this.#configured) {
      this.#configured = true;
      await this.#client.configure(wrap(this.#opts.config) as ConfigureRequest);
    }
    return this.#client;
  }

  get statePath(): string {
    return this.#stateFile.path;
  }

  /** Stops the provider process if the stack started it (it is started again when needed). */
  async close(): Promise<void> {
    if (this.#client !== undefined && this.#ownsClient) {
      const c = this.#client;
      this.#client = undefined;
      await c.close();
    }
  }

  #print(text: string): void {
    const out = this.#opts.out === undefined ? process.stdout : this.#opts.out;
    if (out !== null) out.write(text + "\n");
  }

  #declare(): Resource[] {
    const resources = this.#program !== undefined ? collecting(this.#program) : [...this.resources];
    const seen = new Set<string>();
    for (const r of resources) {
      if (seen.has(r.name)) throw new StackError(`two resources are named ${JSON.stringify(r.name)}`);
      seen.add(r.name);
    }
    for (const r of resources) {
      for (const d of dependenciesOf(r)) {
        if (!resources.includes(d)) throw new StackError(`${r.name} depends on ${d.name}, which is not declared in this stack`);
      }
    }
    const byName = new Map(resources.map((r) => [r.name, r] as const));
    const order = topo(
      resources.map((r) => r.name),
      new Map(resources.map((r) => [r.name, dependenciesOf(r).map((d) => d.name)] as const)),
    );
    return order.map((n) => byName.get(n)!);
  }

  #save(state: StackState, op: string, name: string): void {
    this.#stateFile.save(state);
    this.#opts.afterOperation?.(op, name);
  }

  #load(): StackState {
    return this.#stateFile.load(this.name);
  }

  // --- provider calls (engine values <-> wire) ----------------------------------------------

  async #check(r: Resource, news: Record<string, unknown>, olds: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    const c = await this.client();
    const res = await c.check({
      type: r.type,
      news: wrap(news) as Record<string, unknown>,
      ...(olds !== undefined ? { olds: wrap(olds) as Record<string, unknown> } : {}),
    });
    if (res.failures !== undefined && res.failures.length > 0) throw new CheckFailedError(res.failures, r.name);
    return unwrapMap(res.inputs);
  }

  async #createCall(type: string, inputs: Record<string, unknown>, preview: boolean, timeoutSeconds?: number): Promise<{ id: string; outputs: Record<string, unknown> }> {
    const c = await this.client();
    const res = await c.create({
      type,
      inputs: wrap(inputs) as Record<string, unknown>,
      ...(preview ? { preview: true } : {}),
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    });
    return { id: String(res?.id ?? ""), outputs: unwrapMap(res?.outputs) };
  }

  async #readCall(type: string, id: string, inputs?: Record<string, unknown>, outputs?: Record<string, unknown>) {
    const c = await this.client();
    const res = await c.read({
      type,
      id,
      ...(inputs !== undefined ? { inputs: wrap(inputs) as Record<string, unknown> } : {}),
      ...(outputs !== undefined ? { outputs: wrap(outputs) as Record<string, unknown> } : {}),
    });
    if (res === null || res === undefined) return null;
    return { id: String(res.id || id), inputs: unwrapMap(res.inputs), outputs: unwrapMap(res.outputs) };
  }

  async #updateCall(type: string, id: string, olds: Record<string, unknown>, news: Record<string, unknown>, preview: boolean, timeoutSeconds?: number) {
    const c = await this.client();
    const res = await c.update({
      type,
      id,
      olds: wrap(olds) as Record<string, unknown>,
      news: wrap(news) as Record<string, unknown>,
      ...(preview ? { preview: true } : {}),
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    });
    return unwrapMap(res?.outputs);
  }

  async #deleteCall(type: string, id: string, outputs: Record<string, unknown>, timeoutSeconds?: number): Promise<void> {
    const c = await this.client();
    await c.delete({ type, id, outputs: wrap(outputs) as Record<string, unknown>, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) });
  }

  // --- queries -----------------------------------------------------------------------------

  /** The current state (secrets decrypted as `Secret`). */
  state(): StackState {
    return this.#load();
  }

  /** The recorded outputs of the resource `name` (secrets stay `Secret`). */
  outputs(name: string): Record<string, unknown> {
    const r = this.#load().get(name);
    if (r === undefined) throw new StackError(`${name} is not in the state`);
    return { ...r.outputs };
  }

  // --- pending operations ------------------------------------------------------------------

  async #reconcile(state: StackState): Promise<void> {
    const unresolved: string[] = [];
    for (const p of [...state.pending]) {
      const prop = IMPORT_ID_FROM_INPUTS[p.type];
      const importId = prop !== undefined ? reveal(p.inputs[prop]) : undefined;
      if (typeof importId !== "string" || importId === "") {
        unresolved.push(p.name);
        continue;
      }
      const found = await this.#readCall(p.type, importId, p.inputs);
      state.pending.splice(state.pending.indexOf(p), 1);
      if (found !== null) {
        const inputs = Object.keys(found.inputs).length > 0 ? { ...found.inputs } : { ...p.inputs };
        state.put(new ResourceState(p.type, p.name, found.id, inputs, found.outputs, p.dependencies));
        this.#print(`  adopted ${p.type} ${p.name} (id ${found.id}) created by an interrupted run`);
      }
      this.#save(state, "reconcile", p.name);
    }
    if (unresolved.length > 0) throw new PendingOperationError(unresolved);
  }

  /**
   * Settles the marker of an interrupted create of `name`. With `id`: reads that resource and
   * records it in the state (nothing is duplicated). Without: forgets the marker (after you
   * checked that nothing was created).
   */
  async resolvePending(name: string, id?: string): Promise<void> {
    await this.#stateFile.locked(async () => {
      const state = this.#load();
      const marker = state.pending.find((p) => p.name === name);
      if (marker === undefined) throw new StackError(`no pending operation for ${name}`);
      state.pending.splice(state.pending.indexOf(marker), 1);
      if (id !== undefined) {
        const found = await this.#readCall(marker.type, id, marker.inputs);
        if (found === null) throw new StackError(`${marker.type} ${id} does not exist`);
        const inputs = Object.keys(found.inputs).length > 0 ? { ...found.inputs } : { ...marker.inputs };
        state.put(new ResourceState(marker.type, name, found.id, inputs, found.outputs, marker.dependencies));
      }
      this.#save(state, "resolve", name);
    });
  }

  // --- operations --------------------------------------------------------------------------

  /** What {@link up} would do. Nothing is changed, in the cloud or in the state. */
  async preview(): Promise<Plan> {
    const plan = await this.#run(false, new Plan(this.name, "preview"));
    this.#print(plan.render());
    return plan;
  }

  /**
   * Creates, updates, replaces and deletes until the cloud matches the program. On failure,
   * what was done so far is printed (and recorded in the state) before the error propagates;
   * running `up` again continues from there.
   */
  async up(): Promise<Plan> {
    const plan = new Plan(this.name, "up");
    try {
      await this.#run(true, plan);
    } catch (e) {
      if (plan.steps.length > 0) {
        const err = e as Error;
        plan.warnings.push(`stopped by ${err?.name ?? "Error"}: ${err?.message ?? String(e)}; the steps listed were applied`);
        this.#print(plan.render());
      }
      throw e;
    }
    this.#print(plan.render());
    return plan;
  }

  async #run(apply: boolean, plan: Plan): Promise<Plan> {
    const resources = this.#declare();
    return this.#stateFile.locked(async () => {
      const state = this.#load();
      if (apply) {
        this.#stateFile.requirePassphrase("resources of every type have secret outputs, stored encrypted");
        await this.#reconcile(state);
      } else if (state.pending.length > 0) {
        plan.warnings.push("interrupted creates pending for " + state.pending.map((p) => p.name).join(", "));
      }
      const known = new Map<string, { outputs: Record<string, unknown>; complete: boolean }>();
      const lookup = (res: Resource, prop: string): unknown => {
        const k = known.get(res.name) ?? { outputs: {}, complete: false };
        if (has(k.outputs, prop)) return k.outputs[prop];
        return k.complete ? null : UNKNOWN;
      };
      for (const r of resources) {
        const step = await this.#resourceStep(r, state, lookup, apply);
        plan.steps.push(step);
        known.set(r.name, { outputs: step.outputs, complete: apply || step.op === "same" || step.op === "update" });
        r._outputs = step.outputs;
        r._id = step.id || undefined;
      }
      const declared = new Set(resources.map((r) => r.name));
      const gone = state.resources.filter((s) => !declared.has(s.name));
      for (const s of this.#reverseOrder(gone)) {
        if (apply) {
          await this.#deleteCall(s.type, s.id, s.outputs);
          state.remove(s.name);
          this.#save(state, "delete", s.name);
        }
        plan.steps.push(new Step("delete", s.type, s.name, s.id, [], false, s.outputs));
      }
      if (apply) await this.#finishPendingDeletes(state, plan);
      else {
        for (const old of state.pendingDeletes) plan.steps.push(new Step("delete", old.type, old.name, old.id, [], false, old.outputs, "replaced"));
      }
      return plan;
    });
  }

  #reverseOrder(items: readonly ResourceState[]): ResourceState[] {
    const byName = new Map(items.map((s) => [s.name, s] as const));
    const order = topo(
      items.map((s) => s.name),
      new Map(items.map((s) => [s.name, [...s.dependencies]] as const)),
    );
    return order.reverse().map((n) => byName.get(n)!);
  }

  async #finishPendingDeletes(state: StackState, plan?: Plan): Promise<void> {
    for (const old of [...state.pendingDeletes]) {
      await this.#deleteCall(old.type, old.id, old.outputs);
      state.pendingDeletes.splice(state.pendingDeletes.indexOf(old), 1);
      this.#save(state, "delete-replaced", old.name);
      plan?.steps.push(new Step("delete", old.type, old.name, old.id, [], false, old.outputs, "replaced"));
    }
  }

  async #create(state: StackState, r: Resource, inputs: Record<string, unknown>, deps: string[]): Promise<ResourceState> {
    const marker = new PendingOperation("create", r.type, r.name, inputs, deps);
    state.pending.push(marker);
    this.#save(state, "pending-create", r.name);
    const dropMarker = (): void => {
      const i = state.pending.indexOf(marker);
      if (i >= 0) state.pending.splice(i, 1);
    };
    let created: { id: string; outputs: Record<string, unknown> };
    try {
      created = await this.#createCall(r.type, inputs, false, r._timeouts.create);
    } catch (e) {
      if (e instanceof PartiallyCreatedError) {
        dropMarker();
        const outputs = unwrapMap(e.data?.outputs ?? {});
        state.put(new ResourceState(r.type, r.name, String(e.data?.id ?? ""), inputs, outputs, deps, true));
        this.#save(state, "partially-created", r.name);
      } else if (e instanceof TimeoutError) {
        // The outcome is unknown: keep the marker for the next run to reconcile.
      } else if (e instanceof CredplaneError) {
        dropMarker(); // the provider says nothing was created
        this.#save(state, "create-failed", r.name);
      }
      throw e;
    }
    dropMarker();
    const rs = new ResourceState(r.type, r.name, created.id, inputs, created.outputs, deps);
    state.put(rs);
    this.#save(state, "create", r.name);
    return rs;
  }

  async #resourceStep(r: Resource, state: StackState, lookup: (res: Resource, prop: string) => unknown, apply: boolean): Promise<Step> {
    const deps = dependenciesOf(r).map((d) => d.name);
    const newsRaw = resolveOutputs(unwrap(r.inputs), lookup) as Record<string, unknown>;
    const old = state.get(r.name);
    if (old !== undefined && old.type !== r.type) {
      // Same name, another type: create the new one, delete the old one at the end.
      const news = await this.#check(r, newsRaw, undefined);
      const step = new Step("replace", r.type, r.name, old.id, [new PropertyChange("type", "update", old.type, r.type, true)]);
      if (apply) {
        state.remove(old.name);
        state.pendingDeletes.push(old);
        this.#save(state, "replace-begin", r.name);
        const rs = await this.#create(state, r, news, deps);
        step.id = rs.id;
        step.outputs = rs.outputs;
      } else {
        step.outputs = (await this.#createCall(r.type, news, true)).outputs;
      }
      return step;
    }

    const news = await this.#check(r, newsRaw, old?.inputs);
    if (old === undefined) {
      const changes = Object.keys(news)
        .sort()
        .map((k) => new PropertyChange(k, "add", null, news[k]));
      const step = new Step("create", r.type, r.name, null, changes);
      if (apply) {
        const rs = await this.#create(state, r, news, deps);
        step.id = rs.id;
        step.outputs = rs.outputs;
      } else {
        step.outputs = (await this.#createCall(r.type, news, true)).outputs;
      }
      return step;
    }

    const c = await this.client();
    const diff = await c.diff({
      type: r.type,
      id: old.id,
      olds: wrap(old.outputs) as Record<string, unknown>,
      news: wrap(news) as Record<string, unknown>,
      ...(r._ignoreChanges.length > 0 ? { ignoreChanges: r._ignoreChanges } : {}),
    });
    const replaces = [...(diff.replaces ?? [])];
    const detailed = diff.detailedDiff ?? {};
    const changes: PropertyChange[] = [];
    for (const prop of Object.keys(detailed).sort()) {
      const entry = detailed[prop] as { kind?: string } | undefined;
      const kind = typeof entry === "object" && entry !== null ? String(entry.kind ?? "update") : "update";
      const dash = kind.indexOf("-");
      const base = dash >= 0 ? kind.slice(0, dash) : kind;
      const rep = dash >= 0 ? kind.slice(dash + 1) : "";
      const oldValue = has(old.outputs, prop) ? old.outputs[prop] : has(old.inputs, prop) ? old.inputs[prop] : null;
      changes.push(new PropertyChange(prop, base, oldValue ?? null, has(news, prop) ? news[prop] : null, Boolean(rep) || replaces.includes(prop)));
    }
    const diffChanges = diff.changes ?? Object.keys(detailed).length > 0;
    const replace = replaces.length > 0 || changes.some((ch) => ch.replace);
    if (!diffChanges && changes.length === 0) {
      if (apply && (!deepEqual(old.dependencies, deps) || old.partial)) {
        old.dependencies = deps;
        old.partial = false;
        this.#save(state, "same", r.name);
      }
      return new Step("same", r.type, r.name, old.id, [], false, old.outputs);
    }
    if (replace) {
      const dbr = Boolean(diff.deleteBeforeReplace);
      const step = new Step("replace", r.type, r.name, old.id, changes, dbr);
      if (!apply) {
        step.outputs = (await this.#createCall(r.type, news, true)).outputs;
        return step;
      }
      let rs: ResourceState;
      if (dbr) {
        await this.#deleteCall(old.type, old.id, old.outputs, r._timeouts.delete);
        state.remove(old.name);
        this.#save(state, "delete-for-replace", r.name);
        rs = await this.#create(state, r, news, deps);
      } else {
        state.remove(old.name);
        state.pendingDeletes.push(old);
        this.#save(state, "replace-begin", r.name);
        rs = await this.#create(state, r, news, deps); // the old one is deleted at the end of the run
      }
      step.id = rs.id;
      step.outputs = rs.outputs;
      return step;
    }
    const step = new Step("update", r.type, r.name, old.id, changes);
    if (!apply) {
      try {
        step.outputs = await this.#updateCall(r.type, old.id, old.outputs, news, true);
      } catch (e) {
        if (!(e instanceof UnsupportedError)) throw e;
        step.outputs = { ...old.outputs, ...news };
      }
      return step;
    }
    const outputs = await this.#updateCall(r.type, old.id, old.outputs, news, false, r._timeouts.update);
    state.put(new ResourceState(r.type, r.name, old.id, news, outputs, deps));
    this.#save(state, "update", r.name);
    step.outputs = outputs;
    return step;
  }

  /** Reads every resource: records drift, forgets what no longer exists. */
  async refresh(): Promise<Plan> {
    return this.#stateFile.locked(async () => {
      const state = this.#load();
      if (state.resources.length > 0) this.#stateFile.requirePassphrase("the refreshed state may hold secrets");
      const plan = new Plan(this.name, "refresh");
      const order = this.#reverseOrder(state.resources).reverse();
      for (const s of order) {
        const found = await this.#readCall(s.type, s.id, s.inputs, s.outputs);
        if (found === null) {
          state.remove(s.name);
          plan.steps.push(new Step("delete", s.type, s.name, s.id, [], false, {}, "gone"));
          this.#save(state, "refresh-gone", s.name);
          continue;
        }
        const outputs = { ...found.outputs };
        for (const [k, v] of Object.entries(s.outputs)) {
          if ((outputs[k] === undefined || outputs[k] === null) && v instanceof Secret) outputs[k] = v; // secrets the cloud only returns at creation
        }
        // Write-only inputs (secrets) are not read back: keep the applied ones.
        const inputs: Record<string, unknown> = { ...s.inputs };
        for (const [k, v] of Object.entries(found.inputs)) if (v !== null && v !== undefined) inputs[k] = v;
        const changes: PropertyChange[] = [];
        const keys = [...new Set([...Object.keys(s.outputs), ...Object.keys(outputs)])].sort();
        for (const k of keys) {
          const a = s.outputs[k] ?? null;
          const b = outputs[k] ?? null;
          if (!deepEqual(reveal(a), reveal(b))) {
            const kind = a === null ? "add" : b === null ? "delete" : "update";
            changes.push(new PropertyChange(k, kind, a, b));
          }
        }
        plan.steps.push(new Step(changes.length > 0 ? "update" : "same", s.type, s.name, found.id || s.id, changes, false, outputs));
        state.put(new ResourceState(s.type, s.name, found.id || s.id, inputs, outputs, s.dependencies, s.partial));
        this.#save(state, "refresh", s.name);
      }
      this.#print(plan.render());
      return plan;
    });
  }

  /** Deletes every resource in the state, dependents first. */
  async destroy(): Promise<Plan> {
    return this.#stateFile.locked(async () => {
      const state = this.#load();
      const plan = new Plan(this.name, "destroy");
      if (state.pending.length > 0) await this.#reconcile(state);
      for (const s of this.#reverseOrder(state.resources)) {
        await this.#deleteCall(s.type, s.id, s.outputs);
        state.remove(s.name);
        plan.steps.push(new Step("delete", s.type, s.name, s.id));
        this.#save(state, "delete", s.name);
      }
      await this.#finishPendingDeletes(state, plan);
      this.#print(plan.render());
      return plan;
    });
  }
}
