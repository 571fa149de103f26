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

/**
 * `backend`: the state URL (a directory, a `.json` state file, or `s3://bucket/prefix?endpoint=..`;
 * `statePath` is the same). `client`: default `credplane serve --stdio [--sandbox]` (`sandbox`
 * default `$CREDPLANE_SANDBOX == "1"`), closed by {@link Stack.close}. `passphrase`: default the
 * engine's `CREDPLANE_PASSPHRASE`. `parallelism`: provider calls at once (default 64). `out`:
 * where the plan is printed (default process.stdout; null prints nothing).
 */
export interface StackOptions {
  readonly backend?: string;
  readonly statePath?: string;
  readonly client?: Client;
  readonly sandbox?: boolean;
  readonly passphrase?: string;
  readonly parallelism?: number;
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
  /** The state after the deployment: name -> type, id and outputs (secrets enveloped). */
  readonly resources: Record<string, StoredResource>;
};

/** A resource in the state. */
export type StoredResource = { readonly type: string; readonly id: string; readonly outputs: WireMap };

/** The result of an operation: the engine's outcome and the register replies. */
export class Plan {
  constructor(
    readonly outcome: Outcome,
    readonly registered: ReadonlyMap<string, Registered>,
  ) {}

  get steps(): readonly Step[] { return this.outcome.steps; } // prettier-ignore
  get text(): string { return this.outcome.plan; } // prettier-ignore

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
  #registered = new Map<string, Registered>();
  #state: Record<string, StoredResource> = {};

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
    return this.#client;
  }

  /** Stops the provider process if the stack started it. */
  async close(): Promise<void> {
    if (this.#client !== undefined && this.#opts.client === undefined) await this.#client.close();
    this.#client = undefined;
  }

  /** What `up` would do. */
  readonly preview = (): Promise<Plan> => this.#run("preview");
  /** Makes the cloud match the program. */
  readonly up = (): Promise<Plan> => this.#run("up");
  /** Reads every resource; the plan reports drift. */
  readonly refresh = (): Promise<Plan> => this.#run("refresh");
  /** Deletes every resource, dependents first. */
  readonly destroy = (): Promise<Plan> => this.#run("destroy");

  /** The state after the last operation (name -> type, id, outputs with secrets enveloped). */
  state(): Record<string, StoredResource> {
    return this.#state;
  }

  /** The outputs of `name` after the last operation, with its `id` (secrets as `Secret`, unknowns `undefined`). */
  outputs(name: string): Record<string, unknown> {
    const r = this.#state[name] ?? this.#registered.get(name);
    if (r === undefined) throw new Error(`${name} is not in the stack`);
    return { id: r.id || undefined, ...(valueFromWire(r.outputs) as Record<string, unknown>) };
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
    let unsent: unknown; // an apply that failed: the engine never heard of that resource
    for (const r of declared) {
      const params = r.registration();
      const send = (p: WireMap): Promise<Registered> => client.call<Registered>("engine.register", { deployment, ...p });
      const fail = (e: unknown): never => {
        unsent ??= e;
        throw e;
      };
      r._registered = params instanceof Promise ? params.then(send, fail) : send(params);
    }
    const settled = await Promise.allSettled(declared.map((r) => r._registered!));
    this.#registered = new Map();
    settled.forEach((s) => s.status === "fulfilled" && this.#registered.set(s.value.name, s.value));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (unsent !== undefined) {
      // Closing would delete the resource the engine did not hear of: cancel instead.
      if (!attached) await client.call("engine.cancel", { deployment }).catch(() => undefined);
      throw unsent;
    }
    if (attached) {
      if (failed !== undefined) throw failed.reason;
      return new Plan({ summary: {}, steps: [], plan: "", outputs: {}, warnings: [], mayExist: [], resources: {} }, this.#registered);
    }
    let outcome: Outcome;
    try {
      outcome = await client.call<Outcome>("engine.close", { deployment });
    } catch (e) {
      if (e instanceof CredplaneError && typeof e.data?.plan === "string") this.#print(e.data.plan);
      throw e;
    }
    this.#print(outcome.plan);
    this.#state = outcome.resources ?? {};
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
