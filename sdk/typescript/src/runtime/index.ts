/** The hand-written runtime of the TypeScript SDK: transport, errors, secrets, outputs, Stack facade. */
export * from "../codes";
export * from "./client";
export * from "./errors";
export * from "./output";
export * from "./secret";
export * from "./stack";
export * from "./wire";
