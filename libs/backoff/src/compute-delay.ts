/**
 * The delay formula itself, as a pure function: the same inputs (including
 * the random source's state) always give the same delay, so the broker's
 * durable timers, the client and dlq-admin all agree on it.
 */
import type { Random } from '@braid/core';
import { resolveBackoffPolicy } from './policy.js';
import type { BackoffPolicy } from './policy.js';

/**
 * The delay in ms before retrying after failed attempt `attempt` (1-based:
 * `1` is the first attempt, so the result is the first retry's delay).
 * Ignores `maxAttempts` and `deadlineMs`; use `Backoff` or `retry()` to stop.
 * The result may be fractional; it is never negative and never above
 * `maxDelayMs`.
 *
 * @param policy - options; defaults are applied and values validated.
 * @param attempt - the attempt that just failed, an integer >= 1.
 * @param previousDelay - the delay returned for the previous retry, used only
 *   by `'decorrelated'` jitter; `undefined` before the first retry.
 * @param random - the source of jitter; called at most once.
 * @throws RangeError for invalid options, `attempt` or `previousDelay`.
 */
export function computeDelay(
  policy: BackoffPolicy,
  attempt: number,
  previousDelay: number | undefined,
  random: Random,
): number {
  const { initialDelayMs, multiplier, maxDelayMs, jitter } = resolveBackoffPolicy(policy);
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`computeDelay "attempt" must be an integer >= 1, got ${String(attempt)}`);
  }
  if (previousDelay !== undefined && !(previousDelay >= 0 && Number.isFinite(previousDelay))) {
    throw new RangeError(
      `computeDelay "previousDelay" must be a finite number >= 0, got ${String(previousDelay)}`,
    );
  }

  if (jitter === 'decorrelated') {
    // AWS: sleep = min(cap, random_between(base, sleep * 3)), sleep starting
    // at base. The upper bound never drops below base, so a caller passing a
    // tiny previous delay still gets at least the initial delay.
    const low = initialDelayMs;
    const high = Math.max(low, (previousDelay ?? initialDelayMs) * 3);
    return Math.min(maxDelayMs, low + random.next() * (high - low));
  }

  const value = exponential(initialDelayMs, multiplier, maxDelayMs, attempt);
  switch (jitter) {
    case 'none':
      return value;
    case 'full':
      return random.next() * value;
    case 'equal':
      return value / 2 + random.next() * (value / 2);
  }
}

function exponential(initial: number, multiplier: number, cap: number, attempt: number): number {
  // 0 * Infinity is NaN: once multiplier^n overflows, a zero initial delay
  // must still give zero.
  if (initial === 0) return 0;
  return Math.min(cap, initial * multiplier ** (attempt - 1));
}
