/**
 * Conversions of engine values (as in the Python runtime's secret.py): wire JSON <-> values where
 * a secret is a {@link Secret} and an unknown value is {@link UNKNOWN}; reveal, mask, and a
 * Python-compatible JSON rendering for printed plans.
 */
import { Output } from "./output";
import { MARK, MASK, Secret, UNKNOWN, UNKNOWN_TEXT, Unknown } from "./secret";

/** A plain JSON object (not a Secret, Output, array, ...). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function mapObject(v: Record<string, unknown>, f: (x: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = f(x);
  return out;
}

export function isSecretEnvelopeValue(v: unknown): v is { [MARK]: "secret"; value: unknown } {
  return isPlainObject(v) && v[MARK] === "secret" && "value" in v;
}

export function isUnknownEnvelope(v: unknown): boolean {
  return isPlainObject(v) && v[MARK] === "unknown";
}

/** Engine value -> wire JSON: Secret -> secret envelope, UNKNOWN -> unknown sentinel. */
export function wrap(v: unknown): unknown {
  if (v instanceof Secret) return { [MARK]: "secret", value: wrap(v.value) };
  if (v instanceof Unknown) return { [MARK]: "unknown" };
  if (Array.isArray(v)) return v.map(wrap);
  if (isPlainObject(v)) return mapObject(v, wrap);
  return v;
}

/** Wire JSON -> engine value: secret envelope -> Secret, unknown sentinel -> UNKNOWN (Outputs kept). */
export function unwrap(v: unknown): unknown {
  if (v instanceof Output || v instanceof Secret || v instanceof Unknown) return v;
  if (isPlainObject(v)) {
    if (isSecretEnvelopeValue(v)) {
      const inner = unwrap(v.value);
      return inner instanceof Secret ? inner : new Secret(inner);
    }
    if (isUnknownEnvelope(v)) return UNKNOWN;
    return mapObject(v, unwrap);
  }
  if (Array.isArray(v)) return v.map(unwrap);
  return v;
}

/** `unwrap` of a map (anything else gives `{}`). */
export function unwrapMap(v: unknown): Record<string, unknown> {
  const u = unwrap(v);
  return isPlainObject(u) ? u : {};
}

/** Strips Secret wrappers recursively (for comparisons; never for printing). */
export function reveal(v: unknown): unknown {
  if (v instanceof Secret) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (isPlainObject(v)) return mapObject(v, reveal);
  return v;
}

/** A printable copy: secrets become "[secret]", unknowns "(unknown)". */
export function mask(v: unknown): unknown {
  if (v instanceof Secret) return MASK;
  if (v instanceof Unknown) return UNKNOWN_TEXT;
  if (Array.isArray(v)) return v.map(mask);
  if (isPlainObject(v)) return mapObject(v, mask);
  return v;
}

export function containsSecret(v: unknown): boolean {
  if (v instanceof Secret) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (isPlainObject(v)) return Object.values(v).some(containsSecret);
  return false;
}

export function containsUnknown(v: unknown): boolean {
  if (v instanceof Unknown) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (isPlainObject(v)) return Object.values(v).some(containsUnknown);
  return false;
}

/** Deep equality of JSON-like values (Secrets compare by their plaintext against Secrets only). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (a instanceof Secret || b instanceof Secret) {
    return a instanceof Secret && b instanceof Secret && deepEqual(a.value, b.value);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * JSON as Python's `json.dumps(value, sort_keys=True, ensure_ascii=False)` writes it: keys
 * sorted, `", "` and `": "` separators, so plans print the same text in both SDKs.
 */
export function pyJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
    return JSON.stringify(v);
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return "[" + v.map(pyJson).join(", ") + "]";
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    return "{" + keys.map((k) => JSON.stringify(k) + ": " + pyJson(o[k])).join(", ") + "}";
  }
  return JSON.stringify(String(v));
}
