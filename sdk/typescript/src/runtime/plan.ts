/**
 * Plans: what a preview will do (or what an up, refresh or destroy did), and how it is printed —
 * the same text as the Python runtime's plan.py.
 *
 * Symbols: `+` create, `~` update, `-` delete, `+-` replace; per property `+` added, `~` changed,
 * `-` removed. Secrets print as `[secret]`, unknown values as `(unknown)`.
 */
import { MASK, Secret, UNKNOWN_TEXT, Unknown } from "./secret";
import { mask, pyJson } from "./values";

export type Op = "create" | "update" | "replace" | "delete" | "same";
export type ChangeKind = "add" | "update" | "delete";
export type Action = "preview" | "up" | "refresh" | "destroy";

export const OPS: readonly Op[] = ["create", "update", "replace", "delete", "same"];
const OP_SYMBOL: Record<string, string> = { create: "+", update: "~", replace: "+-", delete: "-", same: " " };
const KIND_SYMBOL: Record<string, string> = { add: "+", update: "~", delete: "-" };

/** A one-line rendering of a value with secrets masked and unknowns marked. */
export function renderValue(value: unknown): string {
  if (value instanceof Secret) return MASK;
  if (value instanceof Unknown) return UNKNOWN_TEXT;
  if (value === null || value === undefined) return "null";
  return pyJson(mask(value));
}

export class PropertyChange {
  constructor(
    readonly name: string,
    /** `add`, `update` or `delete`. */
    readonly kind: ChangeKind | string,
    readonly old: unknown = null,
    readonly new_: unknown = null,
    /** The change forces a replacement. */
    readonly replace: boolean = false,
  ) {}

  /** The new value (`new` is a keyword-ish name in TypeScript, hence `new_` in the constructor). */
  get new(): unknown {
    return this.new_;
  }

  render(): string {
    const sym = KIND_SYMBOL[this.kind] ?? "~";
    let text: string;
    if (this.kind === "add") text = `${sym} ${this.name}: ${renderValue(this.new_)}`;
    else if (this.kind === "delete") text = `${sym} ${this.name}: ${renderValue(this.old)}`;
    else text = `${sym} ${this.name}: ${renderValue(this.old)} => ${renderValue(this.new_)}`;
    return text + (this.replace ? " (forces replacement)" : "");
  }
}

export class Step {
  constructor(
    public op: Op,
    public type: string,
    public name: string,
    public id: string | null = null,
    public changes: PropertyChange[] = [],
    public deleteBeforeReplace = false,
    /** Planned outputs (preview: may hold UNKNOWN) or, after an apply, the actual outputs. */
    public outputs: Record<string, unknown> = {},
    public note = "",
  ) {}

  get changed(): string[] {
    return this.changes.map((c) => c.name).sort();
  }

  render(verbose = true): string {
    let head = `${(OP_SYMBOL[this.op] ?? "?").padStart(2)} ${this.type} ${this.name}`;
    if (this.id) head += ` (id ${this.id})`;
    if (this.op === "replace" && this.deleteBeforeReplace) head += " [delete before replace]";
    if (this.note) head += ` [${this.note}]`;
    const lines = [head];
    if (verbose && this.op !== "delete") lines.push(...this.changes.map((c) => `       ${c.render()}`));
    return lines.join("\n");
  }
}

export class Plan {
  readonly steps: Step[] = [];
  readonly warnings: string[] = [];

  constructor(
    readonly stack: string,
    /** `preview`, `up`, `refresh` or `destroy`. */
    readonly action: Action,
  ) {}

  /** The step for the resource `name` (not counting the deletion of a replaced predecessor). */
  step(name: string): Step | undefined {
    const found = this.steps.filter((s) => s.name === name);
    const main = found.filter((s) => s.note !== "replaced");
    const chosen = main.length > 0 ? main : found;
    return chosen[chosen.length - 1];
  }

  /** Resource name -> op (deletions of replaced predecessors left out). */
  ops(): Record<string, Op> {
    const out: Record<string, Op> = {};
    for (const s of this.steps) if (s.note !== "replaced") out[s.name] = s.op;
    return out;
  }

  counts(): Record<Op, number> {
    const out: Record<Op, number> = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
    for (const s of this.steps) if (s.note !== "replaced") out[s.op] += 1;
    return out;
  }

  get hasChanges(): boolean {
    return this.steps.some((s) => s.op !== "same");
  }

  render(): string {
    const title = { preview: "Previewing", up: "Applied", refresh: "Refreshed", destroy: "Destroyed" }[this.action] ?? this.action;
    const lines = [`${title} stack ${this.stack}:`];
    lines.push(...this.warnings.map((w) => `  warning: ${w}`));
    for (const s of this.steps) if (s.op !== "same") lines.push(s.render());
    const c = this.counts();
    let words: Record<string, string> = { create: "to create", update: "to update", replace: "to replace", delete: "to delete" };
    if (this.action !== "preview") {
      words = { create: "created", update: "updated", replace: "replaced", delete: "deleted" };
      if (this.action === "refresh") words = { create: "created", update: "drifted", replace: "replaced", delete: "gone" };
    }
    const parts = (["create", "update", "replace", "delete"] as const).filter((op) => c[op] > 0).map((op) => `${c[op]} ${words[op]}`);
    parts.push(`${c.same} unchanged`);
    lines.push("Resources: " + parts.join(", "));
    return lines.join("\n");
  }

  /** A JSON-ready summary, secrets masked and unknowns marked as in the printed plan. */
  toJSON(): Record<string, unknown> {
    return {
      stack: this.stack,
      action: this.action,
      warnings: [...this.warnings],
      steps: this.steps.map((s) => ({
        op: s.op,
        type: s.type,
        name: s.name,
        id: s.id,
        note: s.note,
        deleteBeforeReplace: s.deleteBeforeReplace,
        changes: s.changes.map((c) => ({ name: c.name, kind: c.kind, replace: c.replace, old: mask(c.old), new: mask(c.new_) })),
      })),
    };
  }

  toString(): string {
    return this.render();
  }
}
