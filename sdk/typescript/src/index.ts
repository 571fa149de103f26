/** The credplane TypeScript SDK: the runtime and the generated resources. */
export * from "./runtime";
export * from "./resources";
