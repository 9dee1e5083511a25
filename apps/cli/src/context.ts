/**
 * What every `braid` command shares: where to connect, how to print, and
 * how to fail (gRPC status and message on stderr, non-zero exit).
 */
import { status as Status } from '@grpc/grpc-js';
import { fromGrpcError } from '@braid/core';

/** Output and settings for commands. */
export interface CliContext {
  /** The broker address: `--broker`, else `BRAID_BROKER`, else localhost:7401. */
  broker(): string;
  /** Writes to stdout. */
  out(text: string): void;
  /** Sets the exit code without stopping. */
  setExitCode(code: number): void;
  /** Prints `message` to stderr and sets exit code 2 (usage error). */
  fail(message: string): void;
  /** Prints a failed call as `CODE: message` to stderr and sets exit code 1. */
  failWith(error: unknown, context?: string): void;
}

/** The real context over the process's streams. */
export function processContext(env: Readonly<Record<string, string | undefined>>, brokerFlag: () => string | undefined): CliContext {
  return {
    broker: () => brokerFlag() ?? env.BRAID_BROKER ?? 'localhost:7401',
    out: (text) => { process.stdout.write(text); },
    setExitCode: (code) => { process.exitCode = code; },
    fail: (message) => {
      process.stderr.write(`error: ${message}\n`);
      process.exitCode = 2;
    },
    failWith: (error, context) => {
      const braid = fromGrpcError(error);
      const prefix = context ? `${context}: ` : '';
      process.stderr.write(`${prefix}${Status[braid.code]}: ${braid.message}\n`);
      process.exitCode = 1;
    },
  };
}
