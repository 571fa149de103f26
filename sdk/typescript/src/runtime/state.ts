/**
 * The stack state: a local JSON file, written atomically with mode 0600 — the same format as the
 * Python runtime's state.py, so either SDK reads the other's state.
 *
 * Secret values never reach the disk in plaintext: each is stored as
 * `{"$credplane": "secret", "ciphertext": "<base64 nonce||AES-256-GCM ciphertext||tag>"}` with a
 * key derived by scrypt from `CREDPLANE_PASSPHRASE` and a random salt kept in the file's
 * `encryption` header (with a verifier, so a wrong passphrase is reported as such).
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { PassphraseRequiredError, StateError } from "./errors";
import { MARK, Secret, Unknown } from "./secret";
import { containsSecret, isPlainObject, reveal, unwrap, wrap } from "./values";

export const STATE_VERSION = 1;
export const PASSPHRASE_ENV = "CREDPLANE_PASSPHRASE";
const AAD = Buffer.from("credplane-state-v1", "utf8");
const VERIFIER = Buffer.from("credplane-state-verifier", "utf8");
export const DEFAULT_SCRYPT_N = 2 ** 15;

export class ResourceState {
  constructor(
    public type: string,
    public name: string,
    public id: string,
    public inputs: Record<string, unknown> = {},
    public outputs: Record<string, unknown> = {},
    public dependencies: string[] = [],
    /** Created, but a later step of the creation failed (error -32004). */
    public partial = false,
  ) {}
}

/** A create that was started; removed once its outcome is recorded. */
export class PendingOperation {
  constructor(
    public op: string,
    public type: string,
    public name: string,
    public inputs: Record<string, unknown> = {},
    public dependencies: string[] = [],
  ) {}
}

export class StackState {
  constructor(
    public stack: string,
    public resources: ResourceState[] = [],
    public pending: PendingOperation[] = [],
    /** Replaced resources whose deletion has not completed yet. */
    public pendingDeletes: ResourceState[] = [],
  ) {}

  get(name: string): ResourceState | undefined {
    return this.resources.find((r) => r.name === name);
  }

  put(resource: ResourceState): void {
    const i = this.resources.findIndex((r) => r.name === resource.name);
    if (i >= 0) this.resources[i] = resource;
    else this.resources.push(resource);
  }

  remove(name: string): void {
    this.resources = this.resources.filter((r) => r.name !== name);
  }

  hasSecrets(): boolean {
    return (
      [...this.resources, ...this.pendingDeletes].some((r) => containsSecret(r.inputs) || containsSecret(r.outputs)) ||
      this.pending.some((p) => containsSecret(p.inputs))
    );
  }
}

/** The `encryption` header of a state file. */
export interface EncryptionHeader {
  cipher: string;
  kdf: string;
  salt: string;
  n: number;
  r: number;
  p: number;
  verifier?: string;
}

class Cipher {
  readonly #key: Buffer;

  constructor(passphrase: string, salt: Buffer, n: number, r: number, p: number) {
    this.#key = scryptSync(Buffer.from(passphrase, "utf8"), salt, 32, { N: n, r, p, maxmem: 256 * n * r + 32 * 1024 * 1024 });
  }

  encrypt(plaintext: Buffer): string {
    const nonce = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.#key, nonce);
    c.setAAD(AAD);
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([nonce, body, c.getAuthTag()]).toString("base64");
  }

  decrypt(token: string): Buffer {
    const raw = Buffer.from(token, "base64");
    if (raw.length < 12 + 16) throw new Error("ciphertext too short");
    const d = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(AAD);
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
  }
}

function hasCiphertext(v: unknown): boolean {
  if (isPlainObject(v)) {
    if (v[MARK] === "secret" && "ciphertext" in v) return true;
    return Object.values(v).some(hasCiphertext);
  }
  if (Array.isArray(v)) return v.some(hasCiphertext);
  return false;
}

/** JSON with non-ASCII characters escaped, as Python's `json.dumps` (ensure_ascii) writes it. */
function asciiJson(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"));
}

const heldLocks = new Set<string>();

/** Loads and saves a {@link StackState} at `path`. */
export class StateFile {
  readonly path: string;
  readonly #passphrase: string | undefined;
  readonly #scryptN: number;
  #header: EncryptionHeader | null = null;
  #cipher: Cipher | undefined;

  constructor(filePath: string, passphrase?: string, opts: { scryptN?: number } = {}) {
    this.path = filePath;
    this.#passphrase = passphrase !== undefined ? passphrase : process.env[PASSPHRASE_ENV] || undefined;
    this.#scryptN = opts.scryptN || DEFAULT_SCRYPT_N;
  }

  get hasPassphrase(): boolean {
    return Boolean(this.#passphrase);
  }

  requirePassphrase(why: string): void {
    if (!this.#passphrase) throw new PassphraseRequiredError(`set ${PASSPHRASE_ENV}: ${why}`);
  }

  // --- encryption --------------------------------------------------------------------------

  #cipherFor(header: EncryptionHeader | null): Cipher {
    const passphrase = this.#passphrase;
    if (!passphrase) {
      throw new PassphraseRequiredError(`the state ${this.path} holds secrets: set ${PASSPHRASE_ENV} to decrypt them`);
    }
    if (this.#cipher !== undefined && header === this.#header) return this.#cipher;
    let cipher: Cipher;
    if (header === null) {
      const salt = randomBytes(16);
      header = { cipher: "AES-256-GCM", kdf: "scrypt", salt: salt.toString("base64"), n: this.#scryptN, r: 8, p: 1 };
      cipher = new Cipher(passphrase, salt, header.n, 8, 1);
      header.verifier = cipher.encrypt(VERIFIER);
    } else {
      if (header.cipher !== "AES-256-GCM" || header.kdf !== "scrypt") {
        throw new StateError(`unsupported state encryption ${String(header.cipher)}/${String(header.kdf)}`);
      }
      cipher = new Cipher(passphrase, Buffer.from(String(header.salt), "base64"), Number(header.n), Number(header.r), Number(header.p));
      let ok = false;
      try {
        ok = cipher.decrypt(String(header.verifier)).equals(VERIFIER);
      } catch {
        ok = false;
      }
      if (!ok) throw new StateError(`wrong ${PASSPHRASE_ENV} for the state ${this.path}`);
    }
    this.#header = header;
    this.#cipher = cipher;
    return cipher;
  }

  #seal(value: unknown): unknown {
    if (value instanceof Secret) {
      const plaintext = Buffer.from(asciiJson(JSON.stringify(wrap(reveal(value)))), "utf8");
      return { [MARK]: "secret", ciphertext: this.#cipherFor(this.#header).encrypt(plaintext) };
    }
    if (value instanceof Unknown) throw new StateError("an unknown value cannot be saved in the state");
    if (Array.isArray(value)) return value.map((v) => this.#seal(v));
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.#seal(v)]));
    return value;
  }

  #open(value: unknown): unknown {
    if (isPlainObject(value)) {
      if (value[MARK] === "secret" && "ciphertext" in value) {
        let plaintext: Buffer;
        try {
          plaintext = this.#cipherFor(this.#header).decrypt(String(value["ciphertext"]));
        } catch (e) {
          if (e instanceof StateError) throw e;
          throw new StateError(`a secret in ${this.path} cannot be decrypted`);
        }
        return new Secret(reveal(unwrap(JSON.parse(plaintext.toString("utf8")))));
      }
      if (value[MARK] === "secret" && "value" in value) {
        throw new StateError(`${this.path} holds a plaintext secret; refusing to load it`);
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.#open(v)]));
    }
    if (Array.isArray(value)) return value.map((v) => this.#open(v));
    return value;
  }

  #openMap(value: unknown): Record<string, unknown> {
    const v = this.#open(value ?? {});
    return isPlainObject(v) ? v : {};
  }

  // --- load / save -------------------------------------------------------------------------

  exists(): boolean {
    return fs.existsSync(this.path);
  }

  load(stack: string): StackState {
    if (!this.exists()) return new StackState(stack);
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(this.path, "utf8"));
    } catch (e) {
      throw new StateError(`cannot read the state ${this.path}: ${(e as Error).message}`);
    }
    if (!isPlainObject(doc) || doc["version"] !== STATE_VERSION) {
      throw new StateError(`${this.path}: not a credplane state file (version ${STATE_VERSION})`);
    }
    const header = doc["encryption"];
    this.#header = isPlainObject(header) ? (header as unknown as EncryptionHeader) : null;
    this.#cipher = undefined;
    if (hasCiphertext(doc)) {
      if (this.#header === null) throw new StateError(`${this.path}: encrypted values but no encryption header`);
      this.#cipherFor(this.#header); // fails early on a missing or wrong passphrase
    }
    const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
    const need = (d: Record<string, unknown>, k: string): unknown => {
      if (!(k in d)) throw new StateError(`${this.path}: malformed state: missing ${JSON.stringify(k)}`);
      return d[k];
    };
    const list = (v: unknown): Record<string, unknown>[] => {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v) || !v.every(isPlainObject)) throw new StateError(`${this.path}: malformed state`);
      return v as Record<string, unknown>[];
    };
    const res = (d: Record<string, unknown>): ResourceState =>
      new ResourceState(
        String(need(d, "type")),
        String(need(d, "name")),
        String(d["id"] || ""),
        this.#openMap(d["inputs"]),
        this.#openMap(d["outputs"]),
        strs(d["dependencies"]),
        Boolean(d["partial"] ?? false),
      );
    return new StackState(
      String(doc["stack"] || stack),
      list(doc["resources"]).map(res),
      list(doc["pending"]).map(
        (p) => new PendingOperation(String(need(p, "op")), String(need(p, "type")), String(need(p, "name")), this.#openMap(p["inputs"]), strs(p["dependencies"])),
      ),
      list(doc["pendingDeletes"]).map(res),
    );
  }

  save(state: StackState): void {
    if (state.hasSecrets()) {
      this.requirePassphrase("the state would hold secrets, which are only ever stored encrypted");
      this.#cipherFor(this.#header);
    }
    const res = (r: ResourceState): Record<string, unknown> => {
      const d: Record<string, unknown> = {
        type: r.type,
        name: r.name,
        id: r.id,
        inputs: this.#seal(r.inputs),
        outputs: this.#seal(r.outputs),
        dependencies: [...r.dependencies],
      };
      if (r.partial) d["partial"] = true;
      return d;
    };
    const doc = {
      version: STATE_VERSION,
      stack: state.stack,
      encryption: this.#header,
      resources: state.resources.map(res),
      pending: state.pending.map((p) => ({ op: p.op, type: p.type, name: p.name, inputs: this.#seal(p.inputs), dependencies: [...p.dependencies] })),
      pendingDeletes: state.pendingDeletes.map(res),
    };
    writeAtomic(this.path, Buffer.from(asciiJson(JSON.stringify(doc, null, 2)) + "\n", "utf8"));
  }

  /**
   * Runs `fn` holding the lock of this state. Python takes an flock(2) on `<path>.lock`; Node has
   * no flock, so this creates the same file (mode 0600) but excludes concurrent runs only within
   * this process.
   */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    const abs = path.resolve(this.path);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.closeSync(fs.openSync(abs + ".lock", fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600));
    if (heldLocks.has(abs)) throw new StateError(`another run holds ${this.path}.lock`);
    heldLocks.add(abs);
    try {
      return await fn();
    } finally {
      heldLocks.delete(abs);
    }
  }
}

/** Writes `data` to a temp file (mode 0600) in the same directory, fsyncs it, then renames. */
export function writeAtomic(filePath: string, data: Buffer): void {
  const dir = path.dirname(path.resolve(filePath));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(filePath)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    try {
      fs.fchmodSync(fd, 0o600);
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, filePath);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  try {
    const dfd = fs.openSync(dir, fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* directories cannot be fsynced everywhere */
  }
}
