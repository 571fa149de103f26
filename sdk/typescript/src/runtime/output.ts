/** Resources declared in a program and references to their outputs. */

/** A reference to an output property of a resource, resolved by the engine running the stack. */
export class Output<T> {
  /** Phantom field: keeps `Output<string>` and `Output<number>` apart for the type checker. */
  declare readonly __type?: T;

  constructor(
    readonly resource: Resource,
    readonly property: string,
  ) {}

  toString(): string {
    return `Output(${this.resource.name}.${this.property})`;
  }
}

/** A plain value or an output of another resource. */
export type Input<T> = T | Output<T>;

/** Options of every resource. */
export interface ResourceOptions {
  /** Resources that must be created before this one (beyond those its inputs refer to). */
  readonly dependsOn?: readonly Resource[];
  /** The stack to declare it in; the default stack otherwise. */
  readonly stack?: Stack;
}

/** An ordered collection of declared resources. */
export class Stack {
  readonly resources: Resource[] = [];
  static readonly default = new Stack();
}

/** The base of every generated resource class. */
export class Resource {
  constructor(
    readonly type: string,
    readonly name: string,
    /** Inputs as a wire map; `Output`s are left in place. */
    readonly inputs: Record<string, unknown>,
    opts: ResourceOptions = {},
  ) {
    this.dependsOn = opts.dependsOn ?? [];
    (opts.stack ?? Stack.default).resources.push(this);
  }

  readonly dependsOn: readonly Resource[];

  /** A reference to one of this resource's output properties. */
  protected output<T>(property: string): Output<T> {
    return new Output<T>(this, property);
  }
}
