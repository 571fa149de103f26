/**
 * A secret value: it prints as `[secret]` everywhere (toString, util.inspect / console.log), and
 * `JSON.stringify` yields the wire envelope, so that leaking it takes `.value`.
 */
import { inspect } from "node:util";

/** The marker key of credplane's wire envelopes (secret, unknown, ref). */
export const MARK = "$credplane";

/** A secret on the wire: `{"$credplane": "secret", "value": ...}`. */
export interface SecretEnvelope<T = unknown> {
  readonly [MARK]: "secret";
  readonly value: T;
}

/** Whether a wire value is a secret envelope. */
export function isSecretEnvelope(v: unknown): v is SecretEnvelope {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[MARK] === "secret";
}

export class Secret<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  /** The plaintext: the one deliberate way out. */
  get value(): T {
    return this.#value;
  }

  toString(): string {
    return "[secret]";
  }

  /** `JSON.stringify` of a secret yields the envelope, which the engine understands. */
  toJSON(): SecretEnvelope<T> {
    return this.toEnvelope();
  }

  toEnvelope(): SecretEnvelope<T> {
    return { [MARK]: "secret", value: this.#value };
  }

  /** Reads an envelope (or wraps a plain value). */
  static fromWire<T = unknown>(v: unknown): Secret<T> {
    return new Secret((isSecretEnvelope(v) ? v.value : v) as T);
  }

  [inspect.custom](): string {
    return "[secret]";
  }
}
