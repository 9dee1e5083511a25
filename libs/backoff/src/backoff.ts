/**
 * A retry policy with memory: counts failed attempts, remembers the previous
 * delay (for decorrelated jitter) and watches the deadline, so a caller only
 * asks "how long until the next try, if any?".
 */
import { systemClock, systemRandom } from '@braid/core';
import type { Clock, Random } from '@braid/core';
import { computeDelay } from './compute-delay.js';
import { resolveBackoffPolicy } from './policy.js';
import type { BackoffPolicy, ResolvedBackoffPolicy } from './policy.js';

/** Why a `Backoff` gave up: attempts used up, or the deadline reached. */
export type ExhaustionReason = 'attempts' | 'deadline';

/** A `BackoffPolicy` plus the injected time and randomness. */
export interface BackoffOptions extends BackoffPolicy {
  /** Time source for `deadlineMs` (default `systemClock`). */
  clock?: Clock;
  /** Jitter source (default `systemRandom`). */
  random?: Random;
}

/**
 * Stateful backoff. Create it (or `reset()` it) right before the first
 * attempt — the deadline counts from then — and call `next()` after each
 * failed attempt:
 *
 * ```ts
 * const backoff = new Backoff({ maxAttempts: 3 });
 * for (;;) {
 *   try { return await work(); } catch (error) {
 *     const delay = backoff.next();
 *     if (delay === undefined) throw error;
 *     await clock.sleep(delay);
 *   }
 * }
 * ```
 *
 * @throws RangeError from the constructor when an option is invalid.
 */
export class Backoff {
  /** The validated policy, with defaults applied. */
  readonly policy: ResolvedBackoffPolicy;
  private readonly clock: Clock;
  private readonly random: Random;
  private startedAt: number;
  private failed = 0;
  private previousDelay: number | undefined;
  private reason: ExhaustionReason | undefined;

  constructor(options: BackoffOptions = {}) {
    this.policy = resolveBackoffPolicy(options);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.startedAt = this.clock.now();
  }

  /**
   * Failed attempts recorded by `next()` since construction or `reset()`.
   * Once exhausted, further `next()` calls no longer count.
   */
  get attempts(): number {
    return this.failed;
  }

  /** Why the policy gave up, or `undefined` while retries remain. */
  get exhaustedBy(): ExhaustionReason | undefined {
    return this.reason;
  }

  /**
   * Records a failed attempt and returns the delay in ms before the next
   * one, or `undefined` when no retry is left: `maxAttempts` attempts have
   * failed, or the retry would start at or after the deadline (the policy
   * gives up now rather than sleeping past it). Exhaustion is sticky until
   * `reset()`.
   */
  next(): number | undefined {
    if (this.reason !== undefined) return undefined;
    this.failed += 1;
    if (this.failed >= this.policy.maxAttempts) {
      this.reason = 'attempts';
      return undefined;
    }
    const delay = computeDelay(this.policy, this.failed, this.previousDelay, this.random);
    const { deadlineMs } = this.policy;
    if (deadlineMs !== undefined && this.clock.now() + delay >= this.startedAt + deadlineMs) {
      this.reason = 'deadline';
      return undefined;
    }
    this.previousDelay = delay;
    return delay;
  }

  /**
   * Starts over as if newly created: no failed attempts, no previous delay,
   * and the deadline counted from now. Call it after a success.
   */
  reset(): void {
    this.startedAt = this.clock.now();
    this.failed = 0;
    this.previousDelay = undefined;
    this.reason = undefined;
  }
}
