/**
 * `DeadLetterFilter` checked and compiled into a predicate over in-memory
 * summaries, plus the value text that only the local store can answer.
 * Unset fields do not filter. Text matches are case-sensitive substrings
 * (reason) or byte substrings of the UTF-8 text (value); the error class
 * must be equal.
 */
import { createHash } from 'node:crypto';
import type { DeadLetterFilter } from '@braid/proto';
import type { RecordSummary } from './record-summary.js';
import { invalid } from './request-checks.js';

/** A checked filter. */
export interface CompiledFilter {
  /** Whether a record's summary passes every filter except `valueContains`. */
  matches(summary: RecordSummary): boolean;
  /** Bytes the value must contain, or undefined. */
  readonly valueNeedle: Buffer | undefined;
  /** Stable text identifying the filter (equal filters, equal fingerprints). */
  readonly fingerprint: string;
  /** The filter in words, for the audit log: `reason~"timeout" attempts>=3`; `all` when empty. */
  readonly description: string;
}

/**
 * Checks and compiles `filter` (undefined: everything).
 *
 * @param field - the filter's path in the request, for error messages.
 * @throws InvalidArgumentError (naming the field) for negative times or
 *   attempts, or a time range that ends before it starts.
 */
export function compileFilter(filter: DeadLetterFilter | undefined, field = 'filter'): CompiledFilter {
  const reason = filter?.reason ?? '';
  const errorClass = filter?.errorClass ?? '';
  const key = filter?.key === undefined ? undefined : Buffer.from(filter.key);
  const from = filter?.fromTimeMs ?? 0;
  const to = filter?.toTimeMs ?? 0;
  const minAttempts = filter?.minAttempts ?? 0;
  const valueContains = filter?.valueContains ?? '';
  if (!Number.isSafeInteger(from) || from < 0) throw invalid(`${field}.from_time_ms`, `must be a non-negative Unix time in ms, got ${from}`);
  if (!Number.isSafeInteger(to) || to < 0) throw invalid(`${field}.to_time_ms`, `must be a non-negative Unix time in ms (0: no bound), got ${to}`);
  if (to !== 0 && to <= from) throw invalid(`${field}.to_time_ms`, `must be after from_time_ms (${from}), got ${to}`);
  if (!Number.isInteger(minAttempts) || minAttempts < 0) throw invalid(`${field}.min_attempts`, `must be a non-negative integer, got ${minAttempts}`);

  const checks: ((s: RecordSummary) => boolean)[] = [];
  const words: string[] = [];
  if (reason !== '') {
    checks.push((s) => s.reason.includes(reason));
    words.push(`reason~${JSON.stringify(reason)}`);
  }
  if (errorClass !== '') {
    checks.push((s) => s.errorClass === errorClass);
    words.push(`error_class=${JSON.stringify(errorClass)}`);
  }
  if (key !== undefined) {
    checks.push((s) => s.key !== undefined && s.key.equals(key));
    words.push(`key=${JSON.stringify(key.toString('utf8'))}`);
  }
  if (from > 0) {
    checks.push((s) => s.deadLetteredAtMs >= from);
    words.push(`from=${new Date(from).toISOString()}`);
  }
  if (to > 0) {
    checks.push((s) => s.deadLetteredAtMs < to);
    words.push(`to=${new Date(to).toISOString()}`);
  }
  if (minAttempts > 0) {
    checks.push((s) => s.attempts >= minAttempts);
    words.push(`attempts>=${minAttempts}`);
  }
  if (valueContains !== '') words.push(`value~${JSON.stringify(valueContains)}`);

  const fingerprint = createHash('sha256')
    .update(JSON.stringify([reason, errorClass, key?.toString('base64') ?? null, from, to, minAttempts, valueContains]))
    .digest('base64url')
    .slice(0, 16);
  const [first, second] = checks;
  let matches: (summary: RecordSummary) => boolean;
  // Specialised for the common cases: this runs once per record per query.
  if (first === undefined) matches = () => true;
  else if (checks.length === 1) matches = first;
  else if (checks.length === 2 && second !== undefined) matches = (s) => first(s) && second(s);
  else matches = (s) => checks.every((check) => check(s));
  return {
    matches,
    valueNeedle: valueContains === '' ? undefined : Buffer.from(valueContains, 'utf8'),
    fingerprint,
    description: words.length === 0 ? 'all' : words.join(' '),
  };
}
