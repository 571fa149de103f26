/**
 * The transport to `credplane`: JSON-RPC over stdio (`credplane serve --stdio`, one message per
 * line, replies matched by id, so calls are pipelined) or HTTP POST (`credplane serve --listen`,
 * or the engine a `credplane up -- <program>` run names in `CREDPLANE_ENGINE`).
 */
import { ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

import { ERROR_CLASSES } from "../codes";
import { CredplaneError, ErrorData, TransportError } from "./errors";

/** The typed error for a JSON-RPC `error` object. */
export function errorFromReply(error: { code: number; message: string; data?: unknown }): CredplaneError {
  const cls = ERROR_CLASSES.get(error.code) ?? CredplaneError;
  return new cls(error.code, error.message, error.data as ErrorData | undefined);
}

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

/** `binary serve --stdio [--sandbox] ...args` (binary: default `$CREDPLANE_BIN`, else `credplane`). */
export interface StdioOptions {
  readonly binary?: string;
  readonly sandbox?: boolean;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** Spawns `credplane serve --stdio` and multiplexes calls over its stdin/stdout. */
export class StdioTransport implements Transport {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: Error | undefined;

  constructor(opts: StdioOptions = {}) {
    const args = ["serve", "--stdio", ...(opts.sandbox === true ? ["--sandbox"] : []), ...(opts.args ?? [])];
    this.#child = spawn(opts.binary ?? (process.env["CREDPLANE_BIN"] || "credplane"), args, {
      stdio: ["pipe", "pipe", "inherit"],
      env: opts.env ?? process.env,
    });
    createInterface({ input: this.#child.stdout! }).on("line", (line) => this.#onLine(line));
    const fail = (err: Error): void => {
      this.#exited = err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    this.#child.on("error", (e) => fail(new TransportError(`credplane: ${e.message}`)));
    this.#child.on("exit", (code) => fail(new TransportError(`credplane exited with ${code}`)));
  }

  #onLine(line: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      return; // not a reply (the provider logs to stderr; be lenient anyway)
    }
    const waiter = typeof reply.id === "number" ? this.#pending.get(reply.id) : undefined;
    if (waiter !== undefined) {
      this.#pending.delete(reply.id as number);
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

/** POSTs each call to `url` with `Authorization: Bearer <token>`; calls run concurrently. */
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

/** A connection to `credplane`: any provider or `engine.*` method by name. */
export class Client {
  constructor(readonly transport: Transport) {}

  /** Spawns `credplane serve --stdio [--sandbox]`. */
  static stdio(opts: StdioOptions = {}): Client {
    return new Client(new StdioTransport(opts));
  }

  /** Connects to `credplane serve --listen` (or an engine) at `url`. */
  static http(url: string, token: string): Client {
    return new Client(new HttpTransport(url, token));
  }

  /** Calls `method` with params by name; a JSON-RPC error throws its typed {@link CredplaneError}. */
  async call<T = unknown>(method: string, params: object = {}): Promise<T> {
    return (await this.transport.call(method, params)) as T;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
