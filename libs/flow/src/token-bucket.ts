/**
 * Rate limiting by token bucket: a subscription-wide delivery rate (e.g.
 * 100/s for an SMS provider, split among leaders by the coordinator) and
 * producer quotas (DESIGN.md, "Flow control").
 */
import type { Clock } from '@braid/core';
import { tokenBucketDefaults } from './defaults.js';
import { assertAmount } from './validate.js';
import { WaiterQueue, abortReason } from './waiter-queue.js';

/** Options for {@link TokenBucket}; defaults in {@link tokenBucketDefaults}. */
export interface TokenBucketOptions {
  /**
   * Tokens added per second: positive, may be fractional (`0.5` is one
   * token every 2 s). `Infinity` means unlimited.
   */
  rate: number;
  /**
   * Capacity: the most tokens that can be taken at once after idling.
   * Positive; default `max(1, rate)`. Must be finite unless `rate` is
   * `Infinity`.
   */
  burst?: number;
  /** Time source; default the system clock. */
  clock?: Clock;
}

// Tokens are floating point; sums of fractional refills land a hair either
// side of whole numbers, so comparisons allow for rounding.
const EPSILON = 1e-9;

/**
 * A token bucket, refilled lazily from the time elapsed on the injected
 * {@link Clock}. There are no timers unless someone waits in `take`. The
 * bucket starts full.
 *
 * Waiting in {@link TokenBucket.take} is first-in, first-out: while anyone
 * waits, a later request, however small, queues behind them, and
 * {@link TokenBucket.tryTake} returns false. A steady stream of small
 * requests therefore cannot starve a large one.
 */
export class TokenBucket {
  private rateValue = 0;
  private burstValue = 0;
  private tokens: number;
  private last: number;
  private readonly clock: Clock;
  private readonly waiters = new WaiterQueue<number>(() => { this.wakePump(); });
  private pumping = false;
  private wake: AbortController | undefined;

  /** @throws RangeError on an invalid rate or burst. */
  constructor(options: TokenBucketOptions) {
    this.clock = options.clock ?? tokenBucketDefaults.clock;
    this.configure(options.rate, options.burst);
    this.tokens = this.burstValue;
    this.last = this.clock.now();
  }

  /** Tokens added per second (`Infinity`: unlimited). */
  get rate(): number {
    return this.rateValue;
  }

  /** Capacity of the bucket. */
  get burst(): number {
    return this.burstValue;
  }

  /** Tokens in the bucket now (may be fractional), waiters notwithstanding. */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /** Number of `take` calls waiting. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Takes `n` tokens if they are there now. Returns false when they are
   * not, when `n > burst`, or when earlier `take` calls are still waiting.
   *
   * @throws RangeError when `n` is negative or not finite.
   */
  tryTake(n = 1): boolean {
    assertAmount('n', n);
    if (this.waiters.length > 0 || n > this.burstValue) return false;
    return this.takeIfAvailable(n);
  }

  /**
   * The smallest whole number of milliseconds after which `n` tokens will
   * be in the bucket: 0 if they are there now, `Infinity` if `n > burst`.
   * This is bucket arithmetic only. Tokens promised to waiting `take` calls
   * are not subtracted.
   *
   * @throws RangeError when `n` is negative or not finite.
   */
  msUntil(n = 1): number {
    assertAmount('n', n);
    if (n > this.burstValue) return Number.POSITIVE_INFINITY;
    this.refill();
    const deficit = n - this.tokens;
    if (deficit <= EPSILON) return 0;
    // Round to whole milliseconds so a timer set for this long finds the
    // tokens there; at least 1 so a caller looping on it makes progress.
    const ms = Math.ceil((deficit * 1000) / this.rateValue - EPSILON);
    return Math.max(1, ms);
  }

  /**
   * Changes the rate, and the burst (default `max(1, rate)`, as in the
   * constructor), at runtime. Tokens earned so far at the old rate are kept,
   * capped at the new burst. Waiters are re-timed at the new rate, and any
   * asking for more than the new burst fail with `RangeError`.
   *
   * @throws RangeError on an invalid rate or burst.
   */
  setRate(rate: number, burst?: number): void {
    this.refill();
    this.configure(rate, burst);
    this.tokens = Math.min(this.tokens, this.burstValue);
    this.refill();
    this.wakePump();
  }

  /**
   * Waits, first-in first-out, until `n` tokens can be taken, and takes
   * them. Rejects with `signal.reason` when `signal` aborts first; the
   * waiter then leaves the queue and the next one moves up.
   *
   * @throws RangeError (as a rejection) when `n` is invalid or greater than
   *   the burst, since no amount of waiting would satisfy it.
   */
  async take(n = 1, signal?: AbortSignal): Promise<void> {
    assertAmount('n', n);
    if (n > this.burstValue) {
      throw new RangeError(`cannot take ${String(n)} tokens: burst is ${String(this.burstValue)}`);
    }
    if (signal?.aborted) throw abortReason(signal);
    if (this.tryTake(n)) return;
    const waited = this.waiters.wait(n, signal);
    this.startPump();
    await waited;
  }

  private configure(rate: number, burst: number | undefined): void {
    if (!(rate > 0)) throw new RangeError(`rate must be positive, got ${String(rate)}`);
    const capacity = burst ?? tokenBucketDefaults.burst(rate);
    if (!(capacity > 0)) throw new RangeError(`burst must be positive, got ${String(capacity)}`);
    if (capacity === Number.POSITIVE_INFINITY && rate !== Number.POSITIVE_INFINITY) {
      throw new RangeError('burst must be finite unless rate is Infinity');
    }
    this.rateValue = rate;
    this.burstValue = capacity;
  }

  private refill(): void {
    const now = this.clock.now();
    if (this.rateValue === Number.POSITIVE_INFINITY) {
      this.tokens = this.burstValue;
    } else if (now > this.last) {
      this.tokens = Math.min(this.burstValue, this.tokens + ((now - this.last) * this.rateValue) / 1000);
    }
    // A wall clock stepping backwards must not earn the same interval twice.
    this.last = Math.max(this.last, now);
  }

  private takeIfAvailable(n: number): boolean {
    this.refill();
    if (this.tokens + EPSILON < n) return false;
    this.tokens = Math.max(0, this.tokens - n);
    return true;
  }

  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  /**
   * Serves waiters strictly from the head: takes the head's tokens when they
   * are there, otherwise sleeps until they will be. `setRate` and an aborted
   * waiter cut the sleep short so the head is re-timed.
   */
  private async pump(): Promise<void> {
    try {
      for (let head = this.waiters.peek(); head !== undefined; head = this.waiters.peek()) {
        if (head > this.burstValue) {
          this.waiters.rejectHead(
            new RangeError(`cannot take ${String(head)} tokens: burst is now ${String(this.burstValue)}`),
          );
        } else if (this.takeIfAvailable(head)) {
          this.waiters.resolveHead();
        } else {
          await this.sleepUntilAvailable(head);
        }
      }
    } catch (error: unknown) {
      // The clock failed; no waiter can be served without it.
      this.waiters.rejectAll(error);
    } finally {
      this.pumping = false;
    }
  }

  private async sleepUntilAvailable(n: number): Promise<void> {
    const wake = new AbortController();
    this.wake = wake;
    try {
      await this.clock.sleep(this.msUntil(n), wake.signal);
    } catch (error: unknown) {
      // Woken on purpose (rate change, a waiter left): the caller re-times.
      if (!wake.signal.aborted) throw error;
    } finally {
      this.wake = undefined;
    }
  }

  private wakePump(): void {
    this.wake?.abort();
  }
}
