/**
 * Parsers for command-line values. They throw commander's
 * `InvalidArgumentError`, so a bad value is reported like any other usage
 * error (message naming the option, exit code 2).
 */
import { InvalidArgumentError } from 'commander';
import { Durability, StartPosition, SubscriptionMode } from '@braid/client';

/** The names `--durability` accepts, and their proto values. */
export const durabilityNames = {
  fsync: Durability.DURABILITY_FSYNC,
  write: Durability.DURABILITY_WRITE,
} as const satisfies Record<string, Durability>;

/** `fsync` or `write` as the proto enum. */
export function parseDurability(value: string): Durability {
  if (value === 'fsync' || value === 'write') return durabilityNames[value];
  throw new InvalidArgumentError('must be "fsync" or "write".');
}

/** A parser for whole numbers in [min, max]. */
export function integerIn(min: number, max: number = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`;
      throw new InvalidArgumentError(`must be a whole number ${range}.`);
    }
    return n;
  };
}

/** Adds one `--header name=value` to the headers collected so far. */
export function collectHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('must be name=value with a non-empty name.');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** Splits `line` at the first `separator` into key and value; undefined when it has none. */
export function splitKey(line: string, separator: string): { key: string; value: string } | undefined {
  const at = line.indexOf(separator);
  if (at < 0) return undefined;
  return { key: line.slice(0, at), value: line.slice(at + separator.length) };
}

/** The names `--mode` accepts (any case, `-` or `_`), and their proto values. */
export const modeNames = {
  partitioned: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
  key_shared: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
  shared: SubscriptionMode.SUBSCRIPTION_MODE_SHARED,
} as const satisfies Record<string, SubscriptionMode>;

/** `PARTITIONED`, `KEY_SHARED` or `SHARED` (any case, `-` or `_`) as the proto enum. */
export function parseMode(value: string): SubscriptionMode {
  const name = value.trim().toLowerCase().replace(/-/g, '_');
  if (name === 'partitioned' || name === 'key_shared' || name === 'shared') return modeNames[name];
  throw new InvalidArgumentError('must be PARTITIONED, KEY_SHARED or SHARED.');
}

/** A time as Unix ms or an ISO 8601 date, as Unix ms. */
export function parseTime(value: string): number {
  const text = value.trim();
  // Date.parse takes almost anything ("-5" is a date); insist on ISO 8601's YYYY-MM-DD.
  const ms = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidArgumentError('must be Unix milliseconds or an ISO 8601 time, e.g. 2024-05-01T12:00:00Z.');
  return ms;
}

/** Where a new subscription starts: the proto start position and, for a time, the time. */
export interface StartSetting {
  startPosition: StartPosition;
  startTimeMs: number;
}

/** `earliest`, `latest`, or a time (Unix ms or ISO 8601). */
export function parseStart(value: string): StartSetting {
  const name = value.trim().toLowerCase();
  if (name === 'earliest') return { startPosition: StartPosition.START_POSITION_EARLIEST, startTimeMs: 0 };
  if (name === 'latest') return { startPosition: StartPosition.START_POSITION_LATEST, startTimeMs: 0 };
  try {
    return { startPosition: StartPosition.START_POSITION_TIMESTAMP, startTimeMs: parseTime(value) };
  } catch {
    throw new InvalidArgumentError('must be "earliest", "latest", or a time (Unix ms or ISO 8601).');
  }
}

/** Adds one `--offset PARTITION:OFFSET` to those collected so far. */
export function collectOffset(value: string, previous: { partition: number; offset: number }[] = []): { partition: number; offset: number }[] {
  const match = /^(\d+):(\d+)$/.exec(value.trim());
  const partition = Number(match?.[1]);
  const offset = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(partition) || !Number.isSafeInteger(offset)) {
    throw new InvalidArgumentError('must be PARTITION:OFFSET with whole numbers, e.g. 0:1500.');
  }
  return [...previous, { partition, offset }];
}

const durationUnits = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as `500ms`, `90s`, `30m`, `12h`, `7d` or `1h30m`, in ms. */
export function parseDuration(value: string): number {
  const text = value.trim();
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  const ms = parts.reduce((total, [, amount, unit]) => total + Number(amount) * durationUnits[unit as keyof typeof durationUnits], 0);
  if (parts.length === 0 || parts.map(([part]) => part).join('') !== text || !Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError('must be a duration such as 500ms, 90s, 30m, 12h, 7d or 1h30m.');
  }
  return ms;
}

/** A number > 0 (fractions allowed), e.g. a rate in records per second. */
export function positiveNumber(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0.');
  return n;
}

/** Adds one value of a repeatable option to those collected so far. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
