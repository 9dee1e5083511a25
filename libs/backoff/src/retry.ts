/**
 * The retry loop every Braid component would otherwise hand-write: run an
 * attempt, decide whether its failure is worth another try, sleep the
 * policy's delay (abortably), and give up with the last error attached.
 */
import { systemClock } from '@braid/core';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { defaultIsRetriable } from './defaults.js';
import { RetryExhaustedError } from './errors.js';

/** What `onRetry` is told before each sleep. */
export interface RetryInfo {
  /** The attempt that just failed (1-based). */
  readonly attempt: number;
  /** The sleep in ms before attempt `attempt + 1`. */
  readonly delay: number;
  /** What attempt `attempt` failed with. */
  readonly error: unknown;
}

/** A retry policy plus injected dependencies and hooks for `retry()`. */
export interface RetryOptions extends BackoffOptions {
  /**
   * Cancels the retrying: no further attempt starts, a pending sleep ends,
   * and `retry()` rejects with the signal's reason. Passed on to `fn`.
   */
  signal?: AbortSignal;
  /**
   * Whether a failure deserves another attempt; `false` rethrows it at once
   * (default `defaultIsRetriable`: all but errors with `retriable === false`).
   */
  isRetriable?: (error: unknown) => boolean;
  /**
   * Called after a retriable failure, before sleeping; for logs and metrics.
   * If it throws, `retry()` rejects with that error.
   */
  onRetry?: (info: RetryInfo) => void;
}

const neverAborted = new AbortController().signal;

/**
 * Calls `fn` until it resolves, following the backoff policy in `options`.
 *
 * @param fn - one attempt; gets its 1-based number and an `AbortSignal` to
 *   honour (a never-aborting one when `options.signal` is absent).
 * @returns what the first successful attempt resolved to.
 * @throws the attempt's own error when `isRetriable` says it is terminal.
 * @throws the signal's reason when `options.signal` aborts — before an
 *   attempt, during one that then fails, or during a sleep.
 * @throws RetryExhaustedError when `maxAttempts` attempts failed or the next
 *   retry would start at or after `deadlineMs`; the last error is its `cause`.
 * @throws RangeError for invalid options, before `fn` is called.
 */
export async function retry<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const isRetriable = options.isRetriable ?? defaultIsRetriable;
  const signal = options.signal ?? neverAborted;
  // Constructed before the first attempt: the deadline counts from here.
  const backoff = new Backoff({ ...options, clock });

  for (let attempt = 1; ; attempt += 1) {
    signal.throwIfAborted();
    try {
      return await fn(attempt, signal);
    } catch (error) {
      // An attempt that fails because we aborted it is reported as the
      // abort, not as an ordinary (possibly retriable) failure.
      signal.throwIfAborted();
      if (!isRetriable(error)) throw error;
      const delay = backoff.next();
      if (delay === undefined) {
        throw new RetryExhaustedError(attempt, backoff.exhaustedBy ?? 'attempts', error);
      }
      options.onRetry?.({ attempt, delay, error });
      await clock.sleep(delay, signal);
    }
  }
}
