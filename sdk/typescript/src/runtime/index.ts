/** The hand-written runtime of the TypeScript SDK: client, secrets, errors, outputs, stack engine. */
export * from "./client";
export * from "./errors";
export * from "./output";
export * from "./plan";
export * from "./secret";
export * from "./stack";
export * from "./state";
export * from "./values";
export * from "./wire";
