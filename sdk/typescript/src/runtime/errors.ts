/** Typed errors for JSON-RPC error replies, one class per code (provider and engine codes). */

/** A property that failed validation (`resources.<name>.<field>` for the engine's). */
export interface Failure {
  readonly property: string;
  readonly reason: string;
}

/**
 * The `data` of an error reply. `id`/`outputs`: what a partial create left; `mayExist` and
 * `candidates`: a create that may have taken effect; `plan`: what a failed close did.
 */
export interface ErrorData {
  readonly message: string;
  readonly retryable?: boolean;
  readonly cloudCode?: string;
  readonly requestId?: string;
  readonly failures?: readonly Failure[];
  readonly id?: string;
  readonly outputs?: Record<string, unknown>;
  readonly mayExist?: boolean;
  readonly candidates?: readonly string[];
  readonly plan?: string;
}

/** Any error reply from the provider or the engine. */
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

export class ParseError extends CredplaneError { static readonly code = -32700; }
export class InvalidRequestError extends CredplaneError { static readonly code = -32600; }
export class MethodNotFoundError extends CredplaneError { static readonly code = -32601; }
/** Bad params; from the engine also duplicate names, dependsOn cycles, unknown references. */
export class InvalidParamsError extends CredplaneError { static readonly code = -32602; }
export class CloudError extends CredplaneError { static readonly code = -32001; }
export class CancelledError extends CredplaneError { static readonly code = -32002; }
export class TimeoutError extends CredplaneError { static readonly code = -32003; }
export class PartiallyCreatedError extends CredplaneError { static readonly code = -32004; }
export class ConfigurationError extends CredplaneError { static readonly code = -32005; }
export class UnsupportedError extends CredplaneError { static readonly code = -32006; }
/** Wrong passphrase, corrupted or tampered snapshot or journal. */
export class StateError extends CredplaneError { static readonly code = -32010; }
/** The stack is locked by another engine (the message names the holder and its age). */
export class LockedError extends CredplaneError { static readonly code = -32011; }
/** A protected resource would be deleted. */
export class ProtectedError extends CredplaneError { static readonly code = -32012; }
/** A dependency failed, so this step did not run. */
export class DependencyFailedError extends CredplaneError { static readonly code = -32013; }
/** Interrupted creates whose outcome is unknown block `up` (`data.candidates`). */
export class MayExistError extends CredplaneError { static readonly code = -32014; }
/** The state is sealed and `CREDPLANE_PASSPHRASE` is not set. */
export class PassphraseRequiredError extends CredplaneError { static readonly code = -32015; }

/** The transport failed (process exited, HTTP status, bad reply). */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransportError";
  }
}

type ErrorClass = (new (code: number, message: string, data?: ErrorData) => CredplaneError) & { readonly code: number };

/** The error class of each code. */
export const ERROR_CLASSES: ReadonlyMap<number, ErrorClass> = new Map(
  [ParseError, InvalidRequestError, MethodNotFoundError, InvalidParamsError, CloudError, CancelledError, TimeoutError, PartiallyCreatedError,
    ConfigurationError, UnsupportedError, StateError, LockedError, ProtectedError, DependencyFailedError, MayExistError,
    PassphraseRequiredError].map((c) => [c.code, c]),
);

/** The typed error for a JSON-RPC `error` object. */
export function errorFromReply(error: { code: number; message: string; data?: unknown }): CredplaneError {
  const cls = ERROR_CLASSES.get(error.code) ?? CredplaneError;
  return new cls(error.code, error.message, error.data as ErrorData | undefined);
}
