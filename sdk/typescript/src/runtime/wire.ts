/** Conversions between SDK values and the wire: secret envelope and unknown sentinel. */
import { Output } from "./output";
import { MARK, Secret, isSecretEnvelope } from "./secret";

/** A JSON object on the wire. */
export type WireMap = Record<string, unknown>;

/** Whether a wire value is the unknown sentinel of a preview. */
export function isUnknown(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as WireMap)[MARK] === "unknown";
}

/** An input value as JSON: `Secret` enveloped, `Output` kept for the engine. */
export function valueToWire(v: unknown): unknown {
  if (v instanceof Output) return v;
  if (v instanceof Secret) return v.toEnvelope();
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, valueToWire(x)]));
  }
  return v;
}

/** A secret input: a plain value is enveloped too, so the provider treats it as secret. */
export function secretToWire(v: unknown): unknown {
  if (v instanceof Output || v instanceof Secret) return valueToWire(v);
  return { [MARK]: "secret", value: valueToWire(v) };
}

/** A wire value: unknown becomes `undefined`, an envelope a `Secret`. */
export function valueFromWire(v: unknown): unknown {
  if (v === null || isUnknown(v)) return undefined;
  if (isSecretEnvelope(v)) return new Secret(valueFromWire(v.value));
  if (typeof v === "object" && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v as WireMap).map(([k, x]) => [k, valueFromWire(x)]));
  }
  return v;
}

/** A secret attribute: always a `Secret` (or `undefined`), even if it came unwrapped. */
export function secretFromWire(v: unknown): unknown {
  const decoded = valueFromWire(v);
  return decoded === undefined || decoded instanceof Secret ? decoded : new Secret(decoded);
}
