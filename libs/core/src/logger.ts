/**
 * The logging interface libraries accept. It is the subset of pino's API
 * Braid uses, so apps pass a pino logger straight in and tests pass a
 * `MemoryLogger` from `@braid/core/testing`.
 *
 * Structured fields go in the first argument (`topic`, `partition`,
 * `subscription`, `offset`, `traceId`, ...), the message in the second.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
