/**
 * pino behind the `Logger` interface: JSON lines to stdout, one child per
 * component with structured fields.
 */
import { pino } from 'pino';
import type { Logger } from '@braid/core';

/** Log levels apps accept. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A level from `logLevels`. */
export type LogLevel = (typeof logLevels)[number];

/** A pino logger for app `name` at `level`, writing JSON lines to stdout. */
export function createLogger(name: string, level: LogLevel = 'info'): Logger {
  return pino({ name, level, base: { app: name, pid: process.pid } });
}
