/**
 * What a retry policy is: its options, and how user-supplied options become
 * a complete, validated policy.
 */
import { BACKOFF_DEFAULTS } from './defaults.js';

/**
 * How randomness is mixed into each delay (see the AWS architecture blog,
 * "Exponential Backoff And Jitter"), where `value` is the capped
 * exponential delay `min(maxDelayMs, initialDelayMs * multiplier^(attempt-1))`:
 *
 * - `'none'`: exactly `value`.
 * - `'full'`: uniform in `[0, value]`.
 * - `'equal'`: `value / 2` plus uniform in `[0, value / 2]`.
 * - `'decorrelated'`: `min(maxDelayMs, uniform in [initialDelayMs, previous * 3])`,
 *   where `previous` is the delay returned before (the initial delay for the
 *   first retry); `multiplier` does not apply.
 */
export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];

/**
 * Options of a retry policy. Every field is optional; defaults live in
 * `BACKOFF_DEFAULTS`, and `0` always means zero.
 */
export interface BackoffPolicy {
  /** Delay before the first retry in ms (default 1000). `0` gives zero delays. */
  initialDelayMs?: number;
  /** Factor between consecutive delays, at least 1 (default 2); `1` gives constant delays. */
  multiplier?: number;
  /** Cap on any single delay in ms (default 60000). */
  maxDelayMs?: number;
  /** How delays are randomised (default `'full'`). */
  jitter?: Jitter;
  /**
   * Total attempts including the first, an integer of at least 1 or
   * `Infinity` (default 5). `1` means no retry at all.
   */
  maxAttempts?: number;
  /**
   * Overall time budget in ms, counted from the first attempt (default: none).
   * A retry that would start at or after the deadline is not made: the
   * policy gives up at once instead of sleeping past it.
   */
  deadlineMs?: number;
}

/** A `BackoffPolicy` with defaults applied and every value validated. */
export interface ResolvedBackoffPolicy {
  /** See `BackoffPolicy.initialDelayMs`. */
  readonly initialDelayMs: number;
  /** See `BackoffPolicy.multiplier`. */
  readonly multiplier: number;
  /** See `BackoffPolicy.maxDelayMs`. */
  readonly maxDelayMs: number;
  /** See `BackoffPolicy.jitter`. */
  readonly jitter: Jitter;
  /** See `BackoffPolicy.maxAttempts`. */
  readonly maxAttempts: number;
  /** See `BackoffPolicy.deadlineMs`; `undefined` means no deadline. */
  readonly deadlineMs: number | undefined;
}

function invalid(option: keyof BackoffPolicy, rule: string, value: unknown): RangeError {
  return new RangeError(`backoff option "${option}" must be ${rule}, got ${String(value)}`);
}

function finiteAtLeast(option: keyof BackoffPolicy, value: number, min: number): number {
  // `typeof` guards plain-JavaScript callers; NaN fails every comparison.
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value >= min)) {
    throw invalid(option, `a finite number >= ${min}`, value);
  }
  return value;
}

/**
 * Applies `BACKOFF_DEFAULTS` to `policy` and validates the result.
 *
 * @throws RangeError naming the offending option when a value is negative,
 *   NaN, not finite where it must be, a `multiplier` below 1, a
 *   `maxAttempts` below 1 or fractional, or an unknown `jitter`.
 */
export function resolveBackoffPolicy(policy: BackoffPolicy = {}): ResolvedBackoffPolicy {
  const initialDelayMs = finiteAtLeast(
    'initialDelayMs',
    policy.initialDelayMs ?? BACKOFF_DEFAULTS.initialDelayMs,
    0,
  );
  const multiplier = finiteAtLeast('multiplier', policy.multiplier ?? BACKOFF_DEFAULTS.multiplier, 1);
  const maxDelayMs = finiteAtLeast('maxDelayMs', policy.maxDelayMs ?? BACKOFF_DEFAULTS.maxDelayMs, 0);

  const jitter = policy.jitter ?? BACKOFF_DEFAULTS.jitter;
  if (!JITTERS.includes(jitter)) {
    throw invalid('jitter', `one of ${JITTERS.map((j) => `'${j}'`).join(', ')}`, jitter);
  }

  const maxAttempts = policy.maxAttempts ?? BACKOFF_DEFAULTS.maxAttempts;
  if (
    typeof maxAttempts !== 'number' ||
    !(maxAttempts >= 1) ||
    !(Number.isInteger(maxAttempts) || maxAttempts === Number.POSITIVE_INFINITY)
  ) {
    throw invalid('maxAttempts', 'an integer >= 1 or Infinity', maxAttempts);
  }

  const deadlineMs = policy.deadlineMs ?? BACKOFF_DEFAULTS.deadlineMs;
  if (deadlineMs !== undefined && (typeof deadlineMs !== 'number' || !(deadlineMs >= 0))) {
    throw invalid('deadlineMs', 'a number >= 0 (Infinity allowed)', deadlineMs);
  }

  return { initialDelayMs, multiplier, maxDelayMs, jitter, maxAttempts, deadlineMs };
}
