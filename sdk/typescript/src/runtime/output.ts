/**
 * Resources a program declares and references to their outputs. An input that is another
 * resource's output goes to the engine as a reference envelope, so no registration waits for
 * another; only an `apply` callback waits, in the SDK, for the reply of the resource it reads.
 */
import { MARK, Secret, isSecretEnvelope } from "./secret";
import { UNKNOWN, WireMap, isUnknown, refEnvelope, valueToWire } from "./wire";

/** `T` with a `Secret` wrapper taken off: what `Output.apply` callbacks receive. */
export type Plain<T> = T extends Secret<infer V> ? V : T;

/** The reply of `engine.register`, when the resource's step is done. */
export interface Registered {
  readonly name: string;
  readonly id: string;
  readonly op: string;
  /** Wire values: secrets enveloped, unknowns (preview) as the unknown sentinel. */
  readonly outputs: WireMap;
}

/** Calls `fn` on a wire value: unknown stays unknown, a secret's plaintext gives a secret. */
function applyWire(raw: unknown, fn: (v: unknown) => unknown): unknown {
  if (isUnknown(raw)) return UNKNOWN;
  return isSecretEnvelope(raw) ? { [MARK]: "secret", value: unsecret(valueToWire(fn(raw.value))) } : valueToWire(fn(raw));
}

const unsecret = (v: unknown): unknown => (isSecretEnvelope(v) ? v.value : v);

/** The output `property` of `resource`, possibly transformed by `apply` callbacks. */
export class Output<T> {
  /** Phantom field: keeps `Output<string>` and `Output<number>` apart for the type checker. */
  declare readonly __type?: T;

  constructor(
    readonly resource: Resource,
    readonly property: string,
    /** @internal */ readonly fn?: (value: unknown) => unknown,
  ) {}

  /** A derived output: `fn` gets the plain value once known; a secret's result is a secret. */
  apply<U>(fn: (value: Plain<T>) => U): Output<U> {
    const prev = this.fn;
    return this.derive((v) => fn((prev !== undefined ? prev(v) : v) as Plain<T>)) as Output<U>;
  }

  /** The same output typed without `undefined`/`null`; resolving an absent value throws. */
  required(): Output<NonNullable<T>> {
    const where = `${this.resource.name}.${this.property}`;
    return this.apply((v) => {
      if (v === undefined || v === null) throw new Error(`${where} has no value (is it returned only in some configurations?)`);
      return v;
    }) as Output<NonNullable<T>>;
  }

  /** One output holding the values of `outputs` (unknown if any is, secret if any is). */
  static all<T extends readonly unknown[]>(...outputs: { [K in keyof T]: Output<T[K]> }): Output<{ -readonly [K in keyof T]: Plain<T[K]> }> {
    if (outputs.length === 0) throw new Error("Output.all needs at least one output");
    return new AllOutput(outputs as readonly Output<unknown>[]) as unknown as Output<{ -readonly [K in keyof T]: Plain<T[K]> }>;
  }

  /** @internal */
  derive(fn: (value: unknown) => unknown): Output<unknown> {
    return new Output<unknown>(this.resource, this.property, fn);
  }

  /** @internal The resources this output reads. */
  sources(): Resource[] {
    return [this.resource];
  }

  /** @internal A reference (plain output) or, for a derived one, a promise of its wire value. */
  toWire(): unknown {
    return this.fn === undefined ? refEnvelope(this.resource.name, this.property) : this.value();
  }

  /** @internal The wire value, once the resource's step is done. */
  async value(): Promise<unknown> {
    const reg = await this.resource.registered();
    let raw = reg.outputs[this.property];
    if (raw === undefined && this.property === "id") raw = reg.id !== "" ? reg.id : UNKNOWN;
    return this.fn === undefined ? (raw ?? null) : applyWire(raw ?? null, this.fn);
  }

  toString(): string {
    return `Output(${this.resource.name}.${this.property}${this.fn !== undefined ? ".apply(...)" : ""})`;
  }
}

class AllOutput extends Output<unknown[]> {
  constructor(
    readonly parts: readonly Output<unknown>[],
    fn?: (value: unknown) => unknown,
  ) {
    super(parts[0]!.resource, parts[0]!.property, fn);
  }

  override derive(fn: (value: unknown) => unknown): Output<unknown> {
    return new AllOutput(this.parts, fn);
  }

  override sources(): Resource[] {
    return this.parts.flatMap((p) => p.sources());
  }

  override toWire(): unknown {
    return this.value();
  }

  override async value(): Promise<unknown> {
    const values = await Promise.all(this.parts.map((p) => p.value()));
    if (values.some(isUnknown)) return UNKNOWN;
    const list = values.map(unsecret);
    const out = this.fn !== undefined ? applyWire(list, this.fn) : list;
    return values.some(isSecretEnvelope) && !isSecretEnvelope(out) ? { [MARK]: "secret", value: out } : out;
  }
}

/** A plain value or an output of another resource. */
export type Input<T> = T | Output<T>;

/** Pulumi's resource options (see docs/engine.md); `stack` declares it in a given stack. */
export interface ResourceOptions {
  readonly dependsOn?: readonly Resource[];
  readonly ignoreChanges?: readonly string[];
  readonly deleteBeforeReplace?: boolean;
  readonly replaceOnChanges?: readonly string[];
  readonly protect?: boolean;
  readonly retainOnDelete?: boolean;
  /** Seconds, per operation. */
  readonly customTimeouts?: { readonly create?: number; readonly update?: number; readonly delete?: number };
  /** Adopt the existing resource with this id (its inputs must match what is read). */
  readonly import?: string;
  readonly stack?: { readonly resources: Resource[] };
}

const collectors: Resource[][] = [];

/** Calls `fn` (a synchronous program) and returns the resources constructed during the call. */
export function collecting(fn: () => unknown): Resource[] {
  const into: Resource[] = [];
  collectors.push(into);
  try {
    if (fn() instanceof Promise) throw new Error("a stack program must declare its resources synchronously (it returned a Promise)");
  } finally {
    collectors.pop();
  }
  return into;
}

/** The base of every generated resource class. */
export class Resource {
  /** @internal Set when the stack registers it. */
  _registered: Promise<Registered> | undefined;

  constructor(
    readonly type: string,
    readonly name: string,
    /** Inputs as a wire map (unset values dropped); `Output`s are left in place. */
    readonly inputs: WireMap,
    readonly opts: ResourceOptions = {},
  ) {
    if (typeof type !== "string" || type === "") throw new Error("type must be a non-empty string");
    if (typeof name !== "string" || name === "") throw new Error("name must be a non-empty string");
    this.inputs = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined && v !== null));
    if (opts.stack !== undefined) opts.stack.resources.push(this);
    else collectors[collectors.length - 1]?.push(this);
  }

  /** The engine's reply for this resource (rejects if its step failed). */
  registered(): Promise<Registered> {
    if (this._registered === undefined) return Promise.reject(new Error(`${this.name} was not registered by a running stack`));
    return this._registered;
  }

  /** A reference to one of this resource's output properties. */
  protected output<T>(property: string): Output<T> {
    return new Output<T>(this, property);
  }

  /** A reference to any output property by its wire name. */
  _output<T = unknown>(property: string): Output<T> {
    return new Output<T>(this, property);
  }

  /** The `engine.register` params (without `deployment`); derived inputs make it wait. */
  registration(): WireMap | Promise<WireMap> {
    const deps = new Set((this.opts.dependsOn ?? []).map((r) => r.name));
    let waits = false;
    const walk = (v: unknown): unknown => {
      if (v instanceof Output) {
        const w = (v as Output<unknown>).toWire();
        if (w instanceof Promise) {
          waits = true;
          for (const s of (v as Output<unknown>).sources()) deps.add(s.name);
        }
        return w;
      }
      if (v instanceof Secret) return { [MARK]: "secret", value: walk(v.value) };
      if (Array.isArray(v)) return v.map(walk);
      if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    const inputs = walk(this.inputs);
    const { dependsOn: _d, stack: _s, ...rest } = this.opts;
    const params = (resolved: unknown): WireMap => ({ type: this.type, name: this.name, inputs: resolved, options: { ...rest, dependsOn: [...deps] } });
    return waits ? settle(inputs).then(params) : params(inputs);
  }
}

/** Awaits every promise nested in `v`. */
async function settle(v: unknown): Promise<unknown> {
  if (v instanceof Promise) return v;
  if (Array.isArray(v)) return Promise.all(v.map(settle));
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await settle(x)] as const)));
  }
  return v;
}
