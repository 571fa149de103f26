/**
 * A JSON-RPC client for the credplane provider, over stdio (`credplane serve --stdio`, one
 * message per line, replies matched by id) or HTTP (`credplane serve --listen`, bearer token).
 */
import { ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

import { CredplaneError, Failure, TransportError, errorFromReply } from "./errors";
import { WireMap } from "./wire";

/** Carries one JSON-RPC call. */
export interface Transport {
  call(method: string, params: object): Promise<unknown>;
  close(): Promise<void>;
}

interface Reply {
  id?: number | string | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

function settle(reply: Reply): unknown {
  if (reply.error !== undefined) throw errorFromReply(reply.error);
  return reply.result;
}

/** Spawns `credplane serve --stdio` and multiplexes calls over its stdin/stdout. */
export class StdioTransport implements Transport {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: Error | undefined;

  /** `binary` defaults to `credplane` from PATH; `args` are added after `serve --stdio`. */
  constructor(opts: { binary?: string; args?: readonly string[]; env?: NodeJS.ProcessEnv } = {}) {
    this.#child = spawn(opts.binary ?? "credplane", ["serve", "--stdio", ...(opts.args ?? [])], {
      stdio: ["pipe", "pipe", "inherit"],
      env: opts.env ?? process.env,
    });
    const lines = createInterface({ input: this.#child.stdout! });
    lines.on("line", (line) => this.#onLine(line));
    const fail = (err: Error): void => {
      this.#exited = err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    this.#child.on("error", (e) => fail(new TransportError(`credplane: ${e.message}`)));
    this.#child.on("exit", (code) => fail(new TransportError(`credplane exited with ${code}`)));
  }

  #onLine(line: string): void {
    if (line.trim() === "") return;
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      return;
    }
    const waiter = typeof reply.id === "number" ? this.#pending.get(reply.id) : undefined;
    if (waiter !== undefined && typeof reply.id === "number") {
      this.#pending.delete(reply.id);
      waiter.resolve(reply);
    }
  }

  call(method: string, params: object): Promise<unknown> {
    if (this.#exited !== undefined) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#child.stdin!.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    return reply.then(settle);
  }

  async close(): Promise<void> {
    if (this.#exited !== undefined) return;
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.stdin!.end();
    await exited;
  }
}

/** POSTs each call to `credplane serve --listen` with `Authorization: Bearer <token>`. */
export class HttpTransport implements Transport {
  #nextId = 1;

  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async call(method: string, params: object): Promise<unknown> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: this.#nextId++, method, params }),
    });
    const text = await res.text();
    let reply: Reply;
    try {
      reply = JSON.parse(text) as Reply;
    } catch {
      throw new TransportError(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    return settle(reply);
  }

  async close(): Promise<void> {}
}

/** `getSchema` result. */
export interface SchemaResponse {
  readonly version: string;
  /** Resource type → its JSON Schema (schema/resources/<type>.json). */
  readonly resources: Record<string, WireMap>;
}
export interface CheckRequest {
  readonly type: string;
  readonly olds?: WireMap;
  readonly news: WireMap;
}
export interface CheckResponse {
  readonly inputs: WireMap;
  readonly failures: readonly Failure[];
}
export interface DiffRequest {
  readonly type: string;
  readonly id: string;
  readonly olds: WireMap;
  readonly news: WireMap;
  readonly ignoreChanges?: readonly string[];
}
export type DiffKind = "add" | "add-replace" | "update" | "update-replace" | "delete" | "delete-replace";
export interface DiffResponse {
  readonly changes: boolean;
  readonly replaces: readonly string[];
  readonly stables: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly detailedDiff: Record<string, { readonly kind: DiffKind }>;
}
export interface CreateRequest {
  readonly type: string;
  readonly inputs: WireMap;
  readonly preview?: boolean;
  readonly timeoutSeconds?: number;
}
export interface CreateResponse {
  readonly id: string;
  readonly outputs: WireMap;
}
export interface ReadRequest {
  readonly type: string;
  readonly id: string;
  readonly inputs?: WireMap;
  readonly outputs?: WireMap;
  readonly timeoutSeconds?: number;
}
export interface ReadResponse {
  readonly id: string;
  readonly inputs: WireMap;
  readonly outputs: WireMap;
}
export interface UpdateRequest {
  readonly type: string;
  readonly id: string;
  readonly olds: WireMap;
  readonly news: WireMap;
  readonly preview?: boolean;
  readonly timeoutSeconds?: number;
}
export interface UpdateResponse {
  readonly outputs: WireMap;
}
export interface DeleteRequest {
  readonly type: string;
  readonly id: string;
  readonly outputs: WireMap;
  readonly timeoutSeconds?: number;
}
/** `configure` params: per-cloud settings (see AwsSettings etc. in schema/openrpc.json). */
export interface ConfigureRequest {
  readonly aws?: WireMap;
  readonly oci?: WireMap;
  readonly alicloud?: WireMap;
  readonly common?: WireMap;
}

/** Typed calls of every provider method. */
export class Client {
  constructor(readonly transport: Transport) {}

  /** Spawns `credplane serve --stdio` (binary from PATH unless given). */
  static stdio(opts: { binary?: string; args?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Client {
    return new Client(new StdioTransport(opts));
  }

  /** Connects to `credplane serve --listen` at `url` (e.g. `http://127.0.0.1:8080/`). */
  static http(url: string, token: string): Client {
    return new Client(new HttpTransport(url, token));
  }

  async #call<T>(method: string, params: object): Promise<T> {
    return (await this.transport.call(method, params)) as T;
  }

  getSchema(): Promise<SchemaResponse> {
    return this.#call("getSchema", {});
  }
  discover(): Promise<WireMap> {
    return this.#call("rpc.discover", {});
  }
  configure(req: ConfigureRequest): Promise<Record<string, never>> {
    return this.#call("configure", req);
  }
  check(req: CheckRequest): Promise<CheckResponse> {
    return this.#call("check", req);
  }
  diff(req: DiffRequest): Promise<DiffResponse> {
    return this.#call("diff", req);
  }
  create(req: CreateRequest): Promise<CreateResponse> {
    return this.#call("create", req);
  }
  read(req: ReadRequest): Promise<ReadResponse | null> {
    return this.#call("read", req);
  }
  update(req: UpdateRequest): Promise<UpdateResponse> {
    return this.#call("update", req);
  }
  delete(req: DeleteRequest): Promise<Record<string, never>> {
    return this.#call("delete", req);
  }
  cancel(): Promise<{ readonly cancelled: number }> {
    return this.#call("cancel", {});
  }
  close(): Promise<void> {
    return this.transport.close();
  }
}

export { CredplaneError };
