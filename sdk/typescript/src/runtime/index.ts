/** The hand-written runtime of the TypeScript SDK: client, secrets, errors, outputs. */
export * from "./client";
export * from "./errors";
export * from "./output";
export * from "./secret";
export * from "./wire";
