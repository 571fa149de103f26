/** Conversions between SDK values and the wire: secret, unknown and reference envelopes. */
import { Output } from "./output";
import { MARK, Secret, isSecretEnvelope } from "./secret";

/** A JSON object on the wire. */
export type WireMap = Record<string, unknown>;

/** The unknown sentinel of a preview: a value known only after apply. */
export const UNKNOWN: { readonly [MARK]: "unknown" } = Object.freeze({ [MARK]: "unknown" });

/** Whether a wire value is the unknown sentinel of a preview. */
export function isUnknown(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as WireMap)[MARK] === "unknown";
}

/** The reference envelope: output `property` of the resource `resource` of the deployment. */
export function refEnvelope(resource: string, property: string): WireMap {
  return { [MARK]: "ref", resource, property };
}

/** An input value as JSON: `Secret` enveloped, `Output` kept for the stack to resolve. */
export function valueToWire(v: unknown): unknown {
  if (v instanceof Output) return v;
  if (v instanceof Secret) return { [MARK]: "secret", value: valueToWire(v.value) };
  if (Array.isArray(v)) return v.map(valueToWire);
  if (typeof v === "object" && v !== null) {
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
  if (Array.isArray(v)) return v.map(valueFromWire);
  if (typeof v === "object") {
    return Object.fromEntries(Object.entries(v as WireMap).map(([k, x]) => [k, valueFromWire(x)]));
  }
  return v;
}

/** A secret attribute: always a `Secret` (or `undefined`), even if it came unwrapped. */
export function secretFromWire(v: unknown): unknown {
  const decoded = valueFromWire(v);
  return decoded === undefined || decoded instanceof Secret ? decoded : new Secret(decoded);
}
