/**
 * Resources declared in a program and references to their outputs (the Python runtime's
 * resource.py and output.py). The stack engine itself is in stack.ts.
 */
import { Secret, UNKNOWN, Unknown } from "./secret";

/** `T` with a `Secret` wrapper taken off: what `Output.apply` callbacks receive. */
export type Plain<T> = T extends Secret<infer V> ? V : T;

/** Looks up `resource`'s output `property`; {@link UNKNOWN} when it is not known yet. */
export type Lookup = (resource: Resource, property: string) => unknown;

/**
 * A reference to an output property of a resource, resolved by the engine running the stack.
 *
 * During a preview the value may be unknown (the resource does not exist yet); it is then sent to
 * the provider as the unknown sentinel. A secret output stays a `Secret` when it is fed into
 * another resource's input, so secret-ness flows along references.
 */
export class Output<T> {
  /** Phantom field: keeps `Output<string>` and `Output<number>` apart for the type checker. */
  declare readonly __type?: T;
  readonly #fn: ((value: unknown) => unknown) | undefined;

  constructor(
    readonly resource: Resource,
    readonly property: string,
    fn?: (value: unknown) => unknown,
  ) {
    this.#fn = fn;
  }

  /**
   * A derived output: `fn` is called with the plain value once it is known. If the value is a
   * secret, `fn` gets the plaintext and the result is a secret again.
   */
  apply<U>(fn: (value: Plain<T>) => U): Output<U> {
    const prev = this.#fn;
    const composed = (value: unknown): unknown => fn((prev !== undefined ? prev(value) : value) as Plain<T>);
    return this.withFn(composed) as Output<U>;
  }

  /**
   * The same output, typed without `undefined`/`null`: for an optional attribute that the program
   * knows is set (`secret` of an access key created without `pgpKey`). Resolving it throws if the
   * value turns out to be absent, rather than sending `null` to the provider.
   */
  required(): Output<NonNullable<T>> {
    const where = `${this.resource.name}.${this.property}`;
    const prev = this.#fn;
    const present = (value: unknown): unknown => {
      const v = prev !== undefined ? prev(value) : value;
      if (v === undefined || v === null) throw new Error(`${where} has no value (is it returned only in some configurations?)`);
      return v;
    };
    return this.withFn(present) as Output<NonNullable<T>>;
  }

  /**
   * One output holding the list of the values of `outputs` (unknown if any is unknown, secret if
   * any is secret); combine with `.apply`.
   */
  static all<T extends readonly unknown[]>(...outputs: { [K in keyof T]: Output<T[K]> }): Output<{ -readonly [K in keyof T]: Plain<T[K]> }> {
    if (outputs.length === 0) throw new Error("Output.all needs at least one output");
    return new AllOutput(outputs as readonly Output<unknown>[]) as unknown as Output<{ -readonly [K in keyof T]: Plain<T[K]> }>;
  }

  /** @internal */
  withFn(fn: (value: unknown) => unknown): Output<unknown> {
    return new Output<unknown>(this.resource, this.property, fn);
  }

  /** @internal The plain outputs this one is derived from. */
  sources(): Output<unknown>[] {
    return [this as Output<unknown>];
  }

  /** @internal */
  resolveWith(lookup: Lookup): unknown {
    return this.transform(lookup(this.resource, this.property));
  }

  /** @internal */
  protected get fn(): ((value: unknown) => unknown) | undefined {
    return this.#fn;
  }

  private transform(raw: unknown): unknown {
    if (raw instanceof Unknown) return UNKNOWN;
    const fn = this.#fn;
    if (fn === undefined) return raw;
    if (raw instanceof Secret) {
      const result = fn(raw.value);
      return result instanceof Secret || result instanceof Unknown ? result : new Secret(result);
    }
    return fn(raw);
  }

  toString(): string {
    return `Output(${this.resource.name}.${this.property}${this.#fn !== undefined ? ".apply(...)" : ""})`;
  }
}

class AllOutput extends Output<unknown[]> {
  constructor(
    readonly parts: readonly Output<unknown>[],
    fn?: (value: unknown) => unknown,
  ) {
    super(parts[0]!.resource, parts[0]!.property, fn);
  }

  override withFn(fn: (value: unknown) => unknown): Output<unknown> {
    return new AllOutput(this.parts, fn);
  }

  override sources(): Output<unknown>[] {
    return this.parts.flatMap((p) => p.sources());
  }

  override resolveWith(lookup: Lookup): unknown {
    const values = this.parts.map((p) => p.resolveWith(lookup));
    if (values.some((v) => v instanceof Unknown)) return UNKNOWN;
    const secret = values.some((v) => v instanceof Secret);
    const plain = values.map((v) => (v instanceof Secret ? v.value : v));
    const fn = this.fn;
    const result = fn !== undefined ? fn(plain) : plain;
    return secret && !(result instanceof Secret) ? new Secret(result) : result;
  }

  override toString(): string {
    return "Output.all(" + this.parts.map(String).join(", ") + ")";
  }
}

/** A plain value or an output of another resource. */
export type Input<T> = T | Output<T>;

/** Something resources can be declared into (a `Stack`). */
export interface ResourceCollector {
  readonly resources: Resource[];
}

/** Options of every resource. */
export interface ResourceOptions {
  /** Resources that must be created before this one (beyond those its inputs refer to). */
  readonly dependsOn?: readonly Resource[];
  /** The stack to declare it in; by default the stack whose program is running, if any. */
  readonly stack?: ResourceCollector;
  /** Properties whose changes `diff` ignores. */
  readonly ignoreChanges?: readonly string[];
  /** Seconds, sent as `timeoutSeconds` with `create`, `update` and `delete`. */
  readonly timeouts?: { readonly create?: number; readonly update?: number; readonly delete?: number };
}

const collectors: Resource[][] = [];

/**
 * Calls `fn` and returns every resource constructed during the call (without a `stack` option).
 * Programs are synchronous: declare resources, do not await.
 */
export function collecting(fn: () => unknown): Resource[] {
  const into: Resource[] = [];
  collectors.push(into);
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new Error("a stack program must declare its resources synchronously (it returned a Promise)");
    }
  } finally {
    collectors.pop();
  }
  return into;
}

/** The base of every generated resource class. */
export class Resource {
  readonly dependsOn: readonly Resource[];
  /** @internal */ readonly _ignoreChanges: readonly string[];
  /** @internal */ readonly _timeouts: { readonly create?: number; readonly update?: number; readonly delete?: number };
  /** The id once the stack engine ran (undefined before, or in a preview of a create). */
  _id: string | undefined;
  /** The outputs once the stack engine ran (a preview's may hold `UNKNOWN`). */
  _outputs: Record<string, unknown> | undefined;

  constructor(
    readonly type: string,
    readonly name: string,
    /** Inputs as a wire map (unset values dropped); `Output`s are left in place. */
    readonly inputs: Record<string, unknown>,
    opts: ResourceOptions = {},
  ) {
    if (typeof type !== "string" || type === "") throw new Error("type must be a non-empty string");
    if (typeof name !== "string" || name === "") throw new Error("name must be a non-empty string");
    this.inputs = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined && v !== null));
    this.dependsOn = [...(opts.dependsOn ?? [])];
    this._ignoreChanges = [...(opts.ignoreChanges ?? [])];
    this._timeouts = { ...(opts.timeouts ?? {}) };
    if (opts.stack !== undefined) opts.stack.resources.push(this);
    else collectors[collectors.length - 1]?.push(this);
  }

  /** A reference to one of this resource's output properties. */
  protected output<T>(property: string): Output<T> {
    return new Output<T>(this, property);
  }

  /** A reference to any output property by its wire name (as Python's `_output`), e.g. for the base class used directly. */
  _output<T = unknown>(property: string): Output<T> {
    return new Output<T>(this, property);
  }

  toString(): string {
    return `<${this.type} ${JSON.stringify(this.name)}>`;
  }
}

/** Every Output nested in `value` (derived ones counted by their sources). */
export function collectOutputs(value: unknown): Output<unknown>[] {
  const found: Output<unknown>[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Output) found.push(...(v as Output<unknown>).sources());
    else if (v instanceof Secret) walk(v.value);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null && !(v instanceof Unknown)) Object.values(v).forEach(walk);
  };
  walk(value);
  return found;
}

/** Replaces every Output in `value` by its value (`UNKNOWN` when not known yet). */
export function resolveOutputs(value: unknown, lookup: Lookup): unknown {
  if (value instanceof Output) return (value as Output<unknown>).resolveWith(lookup);
  if (value instanceof Secret) {
    const inner = resolveOutputs(value.value, lookup);
    return inner instanceof Secret || inner instanceof Unknown ? inner : new Secret(inner);
  }
  if (Array.isArray(value)) return value.map((v) => resolveOutputs(v, lookup));
  if (typeof value === "object" && value !== null && !(value instanceof Unknown)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveOutputs(v, lookup)]));
  }
  return value;
}

/** Implicit (outputs referenced by the inputs) and explicit dependencies, without repeats. */
export function dependenciesOf(r: Resource): Resource[] {
  const seen: Resource[] = [];
  for (const dep of [...collectOutputs(r.inputs).map((o) => o.resource), ...r.dependsOn]) {
    if (dep !== r && !seen.includes(dep)) seen.push(dep);
  }
  return seen;
}
