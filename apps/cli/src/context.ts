/**
 * What every `braid` command shares: where to connect, how to read and
 * print, and how to fail (gRPC status and message on stderr, non-zero exit).
 */
import { createInterface } from 'node:readline';
import { status as Status } from '@grpc/grpc-js';
import { dlqAdminClientDefaults } from '@braid/client';
import { fromGrpcError } from '@braid/core';

/** The process streams a command uses, replaceable in tests. */
export interface CliIo {
  /** Writes to stdout. */
  stdout(text: string): void;
  /** Writes to stderr. */
  stderr(text: string): void;
  /** Standard input, line by line (without line endings). */
  stdinLines(): AsyncIterable<string>;
  /** Sets the exit code without stopping. */
  setExitCode(code: number): void;
  /**
   * A signal that aborts on SIGINT/SIGTERM, for commands that run until
   * interrupted (`consume`) and stop gracefully. Asking for it is what
   * installs the handlers, so other commands keep the default behaviour.
   */
  interrupted(): AbortSignal;
}

/** Output and settings for commands. */
export interface CliContext {
  /** The broker address: `--broker`, else `BRAID_BROKER`, else localhost:7401. */
  broker(): string;
  /** dlq-admin's address: `--dlq-admin`, else `BRAID_DLQ_ADMIN`, else localhost:7402. */
  dlqAdmin(): string;
  /** The admin token for mutating dlq-admin calls: `BRAID_ADMIN_TOKEN`, if set and not empty. */
  adminToken(): string | undefined;
  /** Who runs the command, for dlq-admin's audit log: `BRAID_ACTOR`, else `USER`, else "cli". */
  actor(): string;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes a note to stderr (keeping stdout machine-readable); the exit code stays. */
  note(text: string): void;
  /** Standard input, line by line. */
  lines(): AsyncIterable<string>;
  /** Sets the exit code without stopping. */
  setExitCode(code: number): void;
  /** Aborts on SIGINT/SIGTERM (see `CliIo.interrupted`). */
  interrupted(): AbortSignal;
  /** Prints `message` to stderr and sets exit code 2 (usage error). */
  fail(message: string): void;
  /** Prints a failed call as `CODE: message` to stderr and sets exit code 1. */
  failWith(error: unknown, context?: string): void;
}

/** The default broker address. */
export const defaultBroker = 'localhost:7401';

/** The default dlq-admin address. */
export const defaultDlqAdmin = dlqAdminClientDefaults.address;

/** The real streams of this process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => { process.stdout.write(text); },
    stderr: (text) => { process.stderr.write(text); },
    stdinLines: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
    setExitCode: (code) => { process.exitCode = code; },
    interrupted: () => {
      const controller = new AbortController();
      const stop = (signal: NodeJS.Signals): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        controller.abort(new Error(`received ${signal}`));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return controller.signal;
    },
  };
}

/** A context over `io`, reading the broker and dlq-admin addresses from their flags or the environment. */
export function createContext(
  io: CliIo,
  env: Readonly<Record<string, string | undefined>>,
  brokerFlag: () => string | undefined,
  dlqAdminFlag: () => string | undefined = () => undefined,
): CliContext {
  return {
    broker: () => brokerFlag() ?? env.BRAID_BROKER ?? defaultBroker,
    dlqAdmin: () => dlqAdminFlag() ?? env.BRAID_DLQ_ADMIN ?? defaultDlqAdmin,
    adminToken: () => (env.BRAID_ADMIN_TOKEN === '' ? undefined : env.BRAID_ADMIN_TOKEN),
    actor: () => env.BRAID_ACTOR || env.USER || 'cli',
    out: (text) => { io.stdout(text); },
    note: (text) => { io.stderr(text); },
    lines: () => io.stdinLines(),
    setExitCode: (code) => { io.setExitCode(code); },
    interrupted: () => io.interrupted(),
    fail: (message) => {
      io.stderr(`error: ${message}\n`);
      io.setExitCode(2);
    },
    failWith: (error, context) => {
      const braid = fromGrpcError(error);
      const prefix = context ? `${context}: ` : '';
      io.stderr(`${prefix}${Status[braid.code]}: ${braid.message}\n`);
      io.setExitCode(1);
    },
  };
}

/** The real context over the process's streams. */
export function processContext(env: Readonly<Record<string, string | undefined>>, brokerFlag: () => string | undefined): CliContext {
  return createContext(processIo(), env, brokerFlag);
}
