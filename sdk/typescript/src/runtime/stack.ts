/**
 * The Stack facade: runs a program's declarations through the engine inside `credplane`
 * (docs/engine.md). `up`/`preview` open a deployment, send one `engine.register` per resource
 * without waiting for the replies (pipelined), then `engine.close`, which returns the plan the
 * engine rendered. When a `credplane up -- <program>` run started this process
 * (`CREDPLANE_ENGINE` set), the resources go into its deployment and the CLI prints the plan.
 */
import { Client } from "./client";
import { CredplaneError } from "./errors";
import { Registered, Resource, collecting } from "./output";
import { MARK } from "./secret";
import { WireMap, valueFromWire } from "./wire";

/** A program declares resources (synchronously); it is called at the start of `up`/`preview`. */
export type Program = () => void;

export interface StackOptions {
  /** The state URL: a directory, a `.json` state file path, or `s3://bucket/prefix?endpoint=..`. */
  readonly backend?: string;
  /** A state file path (today's SDK layout); the same as `backend`. */
  readonly statePath?: string;
  /** The connection; default `credplane serve --stdio` (closed by {@link Stack.close}). */
  readonly client?: Client;
  /** Start that provider with `--sandbox` (default: `$CREDPLANE_SANDBOX == "1"`). */
  readonly sandbox?: boolean;
  /** Default: the engine's `CREDPLANE_PASSPHRASE`. */
  readonly passphrase?: string;
  /** Provider calls at once (engine default 16). */
  readonly parallelism?: number;
  /** Sent with `configure` (keys `aws`, `oci`, `alicloud`, `common`) before the first deployment. */
  readonly config?: WireMap;
  /** Where the plan is printed: default process.stdout; null prints nothing. */
  readonly out?: { write(text: string): unknown } | null;
}

/** One property change of a step (values masked by the engine: `[secret]`, `(unknown)`). */
export type Change = { readonly name: string; readonly kind: "add" | "update" | "delete"; readonly replace: boolean; readonly old: unknown; readonly new: unknown };

/** One step. `note` is `replaced` (a replaced predecessor's deletion) or `gone` (refresh). */
export type Step = {
  readonly op: "create" | "update" | "replace" | "delete" | "same" | "import";
  readonly type: string;
  readonly name: string;
  readonly id?: string | null;
  readonly note: string;
  readonly deleteBeforeReplace: boolean;
  readonly changes: readonly Change[];
};

/** What `engine.close` returns; `plan` is the rendered text. */
export type Outcome = {
  readonly summary: Record<string, number>;
  readonly steps: readonly Step[];
  readonly plan: string;
  readonly outputs: WireMap;
  readonly warnings: readonly string[];
  readonly mayExist: readonly { readonly name: string; readonly type: string; readonly ids: readonly string[] }[];
};

/** The result of an operation: the engine's outcome and the register replies. */
export class Plan {
  constructor(
    readonly outcome: Outcome,
    readonly registered: ReadonlyMap<string, Registered>,
  ) {}

  get steps(): readonly Step[] {
    return this.outcome.steps;
  }
  get text(): string {
    return this.outcome.plan;
  }

  /** The op of each resource (a replaced predecessor's deletion belongs to its replace). */
  ops(): Record<string, string> {
    return Object.fromEntries(this.steps.filter((s) => s.note !== "replaced").map((s) => [s.name, s.op]));
  }

  step(name: string): Step | undefined {
    return this.steps.find((s) => s.name === name && s.note !== "replaced");
  }
}

type Action = "up" | "preview" | "refresh" | "destroy";

/** A named set of resources declared by `program` (or with `{ stack }` in their options). */
export class Stack {
  /** Resources declared with `{ stack: this }`. */
  readonly resources: Resource[] = [];
  readonly #program: Program | undefined;
  readonly #opts: StackOptions;
  #client: Client | undefined;
  #configured = false;
  #registered = new Map<string, Registered>();

  constructor(
    readonly name: string = "stack",
    program?: Program,
    opts: StackOptions = {},
  ) {
    this.#program = program;
    this.#opts = opts;
    this.#client = opts.client;
  }

  /** Whether a `credplane up -- <program>` run started this process. */
  static get attached(): boolean {
    return (process.env["CREDPLANE_ENGINE"] ?? "") !== "";
  }

  /** The connection: the CLI's engine, the given client, or a `credplane serve --stdio` started now. */
  async client(): Promise<Client> {
    if (this.#client === undefined) {
      const env = process.env;
      this.#client = Stack.attached
        ? Client.http(env["CREDPLANE_ENGINE"]!, env["CREDPLANE_ENGINE_TOKEN"] ?? "")
        : Client.stdio({ sandbox: this.#opts.sandbox ?? env["CREDPLANE_SANDBOX"] === "1" });
    }
    if (this.#opts.config !== undefined && !this.#configured) {
      this.#configured = true;
      await this.#client.call("configure", this.#opts.config);
    }
    return this.#client;
  }

  /** Stops the provider process if the stack started it. */
  async close(): Promise<void> {
    if (this.#client !== undefined && this.#opts.client === undefined) await this.#client.close();
    this.#client = undefined;
    this.#configured = false;
  }

  /** What `up` would do. */
  readonly preview = (): Promise<Plan> => this.#run("preview");
  /** Makes the cloud match the program. */
  readonly up = (): Promise<Plan> => this.#run("up");
  /** Reads every resource; the plan reports drift. */
  readonly refresh = (): Promise<Plan> => this.#run("refresh");
  /** Deletes every resource, dependents first. */
  readonly destroy = (): Promise<Plan> => this.#run("destroy");

  /** The outputs of `name` from the last `up`/`preview` (secrets as `Secret`, unknowns `undefined`). */
  outputs(name: string): Record<string, unknown> {
    const reg = this.#registered.get(name);
    if (reg === undefined) throw new Error(`${name} was not registered by the last up or preview`);
    return { id: reg.id || undefined, ...(valueFromWire(reg.outputs) as Record<string, unknown>) };
  }

  /** The stack's snapshot as stored (secrets stay sealed): `engine.export`. */
  async export(): Promise<WireMap> {
    return (await this.client()).call("engine.export", { stack: this.name, backend: this.#backend() });
  }

  #backend(): string | undefined {
    return this.#opts.backend ?? this.#opts.statePath;
  }

  async #run(action: Action): Promise<Plan> {
    const client = await this.client();
    const attached = Stack.attached;
    const deployment = attached
      ? process.env["CREDPLANE_DEPLOYMENT"]!
      : (
          await client.call<{ deployment: string }>("engine.open", {
            stack: this.name,
            action,
            backend: this.#backend(),
            parallelism: this.#opts.parallelism,
            passphrase: this.#opts.passphrase !== undefined ? { [MARK]: "secret", value: this.#opts.passphrase } : undefined,
          })
        ).deployment;
    const declared = action === "up" || action === "preview" ? this.#declare() : [];
    for (const r of declared) {
      const params = r.registration();
      const send = (p: WireMap): Promise<Registered> => client.call<Registered>("engine.register", { deployment, ...p });
      r._registered = params instanceof Promise ? params.then(send) : send(params);
    }
    const settled = await Promise.allSettled(declared.map((r) => r._registered!));
    this.#registered = new Map();
    settled.forEach((s) => s.status === "fulfilled" && this.#registered.set(s.value.name, s.value));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed !== undefined && !(failed.reason instanceof CredplaneError)) {
      // The SDK failed to register a resource (an apply callback threw): closing would delete it.
      if (!attached) await client.call("engine.cancel", { deployment }).catch(() => undefined);
      throw failed.reason;
    }
    if (attached) {
      if (failed !== undefined) throw failed.reason;
      return new Plan({ summary: {}, steps: [], plan: "", outputs: {}, warnings: [], mayExist: [] }, this.#registered);
    }
    let outcome: Outcome;
    try {
      outcome = await client.call<Outcome>("engine.close", { deployment });
    } catch (e) {
      if (e instanceof CredplaneError && typeof e.data?.plan === "string") this.#print(e.data.plan);
      throw e;
    }
    this.#print(outcome.plan);
    if (failed !== undefined) throw failed.reason;
    return new Plan(outcome, this.#registered);
  }

  #declare(): Resource[] {
    return this.#program !== undefined ? collecting(this.#program) : [...this.resources];
  }

  #print(text: string): void {
    const out = this.#opts.out === undefined ? process.stdout : this.#opts.out;
    out?.write(text.endsWith("\n") ? text : text + "\n");
  }
}
