/** Typed errors for JSON-RPC error replies, one class per code (see schema/openrpc.json). */

/** A property that failed validation. */
export interface Failure {
  readonly property: string;
  readonly reason: string;
}

/** The `data` of a credplane error reply. */
export interface ErrorData {
  readonly message: string;
  readonly retryable: boolean;
  readonly cloudCode?: string;
  readonly requestId?: string;
  readonly failures?: readonly Failure[];
  /** PartiallyCreated: the id of the object that exists. */
  readonly id?: string;
  /** PartiallyCreated: the outputs known so far. */
  readonly outputs?: Record<string, unknown>;
}

/** Any error reply from the provider. */
export class CredplaneError extends Error {
  readonly code: number;
  readonly data: ErrorData | undefined;

  constructor(code: number, message: string, data?: ErrorData) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }

  get failures(): readonly Failure[] {
    return this.data?.failures ?? [];
  }

  get cloudCode(): string | undefined {
    return this.data?.cloudCode;
  }

  get retryable(): boolean {
    return this.data?.retryable ?? false;
  }
}

export class ParseError extends CredplaneError {}
export class InvalidRequestError extends CredplaneError {}
export class MethodNotFoundError extends CredplaneError {}
export class InvalidParamsError extends CredplaneError {}
export class CloudError extends CredplaneError {}
export class CancelledError extends CredplaneError {}
export class TimeoutError extends CredplaneError {}
export class PartiallyCreatedError extends CredplaneError {}
export class ConfigurationError extends CredplaneError {}
export class UnsupportedError extends CredplaneError {}
/** The transport failed (process exited, HTTP status, bad reply). */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransportError";
  }
}

type ErrorClass = new (code: number, message: string, data?: ErrorData) => CredplaneError;

/** The error class of each code: one row per code. */
export const ERROR_CLASSES: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
  [-32700, ParseError],
  [-32600, InvalidRequestError],
  [-32601, MethodNotFoundError],
  [-32602, InvalidParamsError],
  [-32001, CloudError],
  [-32002, CancelledError],
  [-32003, TimeoutError],
  [-32004, PartiallyCreatedError],
  [-32005, ConfigurationError],
  [-32006, UnsupportedError],
]);

/** The typed error for a JSON-RPC `error` object. */
export function errorFromReply(error: { code: number; message: string; data?: unknown }): CredplaneError {
  const cls = ERROR_CLASSES.get(error.code) ?? CredplaneError;
  return new cls(error.code, error.message, error.data as ErrorData | undefined);
}

/** An error of the stack engine itself (not a provider reply): cycles, duplicate names, ... */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `check` reported failures for a resource's inputs. */
export class CheckFailedError extends StackError {
  constructor(
    readonly failures: readonly Failure[],
    readonly resource?: string,
  ) {
    const where = resource !== undefined ? `${resource}: ` : "";
    super(`${where}invalid inputs: ` + failures.map((f) => `${f.property || "(resource)"}: ${f.reason}`).join("; "));
  }
}

/** The state file is unreadable, inconsistent, or cannot be decrypted. */
export class StateError extends StackError {}

/** The state holds (or will hold) secrets and `CREDPLANE_PASSPHRASE` is not set. */
export class PassphraseRequiredError extends StateError {}

/** An earlier run was interrupted during a create whose result could not be reconciled. */
export class PendingOperationError extends StateError {
  constructor(readonly names: readonly string[]) {
    super(
      "an earlier run was interrupted while creating " +
        names.join(", ") +
        ": the resource may exist in the cloud with an unknown id. Call " +
        "Stack.resolvePending(name, id) to adopt it, or Stack.resolvePending(name) to " +
        "forget the marker after checking that nothing was created.",
    );
  }
}
