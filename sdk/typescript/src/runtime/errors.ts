/** The bases of the errors of JSON-RPC replies (one class per code is in `../codes`), and the transport error. */

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

/** The transport failed (process exited, HTTP status, bad reply). */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransportError";
  }
}

/** A class of the error of one code (they are written by sdk-gen into `../codes`, from the OpenRPC document). */
export type ErrorClass = (new (code: number, message: string, data?: ErrorData) => CredplaneError) & { readonly code: number };
