/**
 * Parsers for command-line values. They throw commander's
 * `InvalidArgumentError`, so a bad value is reported like any other usage
 * error (message naming the option, exit code 2).
 */
import { InvalidArgumentError } from 'commander';
import { Durability } from '@braid/client';

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
