/**
 * Bounds outstanding work by count and bytes: a producer's bounded buffer,
 * so a slow broker turns into waiting callers rather than unbounded memory
 * (DESIGN.md, "Flow control").
 */
import { inFlightLimiterDefaults } from './defaults.js';
import { assertCount, assertLimit } from './validate.js';
import { WaiterQueue, abortReason } from './waiter-queue.js';

/** Options for {@link InFlightLimiter}; defaults in {@link inFlightLimiterDefaults}. */
export interface InFlightLimiterOptions {
  /** Items in flight at once: a positive integer, or `Infinity`. */
  maxCount?: number;
  /** Bytes in flight at once: a positive integer, or `Infinity`. */
  maxBytes?: number;
}

/**
 * Admits work while fewer than `maxCount` items and at most `maxBytes` bytes
 * are in flight. Every admission is paired with one `release` of the same
 * byte size.
 *
 * Waiting is first-in, first-out: while anyone waits, later callers queue
 * behind them and {@link InFlightLimiter.tryAcquire} returns false. A single
 * item larger than `maxBytes` is admitted when nothing else is in flight,
 * so it waits its turn but cannot deadlock.
 */
export class InFlightLimiter {
  /** Items allowed in flight at once. */
  readonly maxCount: number;
  /** Bytes allowed in flight at once. */
  readonly maxBytes: number;

  private count = 0;
  private bytes = 0;
  private readonly waiters = new WaiterQueue<number>(() => { this.admitWaiters(); });

  /** @throws RangeError on an invalid option. */
  constructor(options: InFlightLimiterOptions = {}) {
    this.maxCount = options.maxCount ?? inFlightLimiterDefaults.maxCount;
    this.maxBytes = options.maxBytes ?? inFlightLimiterDefaults.maxBytes;
    assertLimit('maxCount', this.maxCount);
    assertLimit('maxBytes', this.maxBytes);
  }

  /** Items admitted and not yet released. */
  get inFlight(): number {
    return this.count;
  }

  /** Bytes admitted and not yet released. */
  get inFlightBytes(): number {
    return this.bytes;
  }

  /** Number of `acquire` calls waiting. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Admits an item of `bytes` bytes if there is room now and nobody is
   * waiting.
   *
   * @throws RangeError when `bytes` is not a non-negative integer.
   */
  tryAcquire(bytes = 0): boolean {
    assertCount('bytes', bytes);
    if (this.waiters.length > 0 || !this.fits(bytes)) return false;
    this.admit(bytes);
    return true;
  }

  /**
   * Waits, first-in first-out, until an item of `bytes` bytes fits, and
   * admits it. Rejects with `signal.reason` when `signal` aborts first; the
   * waiter then leaves the queue without being admitted, and those behind
   * it move up.
   *
   * @throws RangeError (as a rejection) when `bytes` is not a non-negative
   *   integer.
   */
  async acquire(bytes = 0, signal?: AbortSignal): Promise<void> {
    assertCount('bytes', bytes);
    if (signal?.aborted) throw abortReason(signal);
    if (this.tryAcquire(bytes)) return;
    await this.waiters.wait(bytes, signal);
  }

  /**
   * Ends one item of `bytes` bytes and admits waiters that now fit, in
   * order.
   *
   * @throws RangeError when nothing is in flight or `bytes` exceeds the bytes
   *   in flight: a release without a matching acquire is a caller bug, and
   *   ignoring it would quietly raise the limit.
   */
  release(bytes = 0): void {
    assertCount('bytes', bytes);
    if (this.count < 1 || bytes > this.bytes) {
      throw new RangeError(
        `releasing ${String(bytes)} bytes but only ${String(this.count)} items ` +
          `(${String(this.bytes)} bytes) are in flight`,
      );
    }
    this.count -= 1;
    this.bytes -= bytes;
    this.admitWaiters();
  }

  private fits(bytes: number): boolean {
    if (this.count >= this.maxCount) return false;
    return this.count === 0 || this.bytes + bytes <= this.maxBytes;
  }

  private admit(bytes: number): void {
    this.count += 1;
    this.bytes += bytes;
  }

  /** Admits from the head while the head fits; stops at the first that does not. */
  private admitWaiters(): void {
    for (let head = this.waiters.peek(); head !== undefined && this.fits(head); head = this.waiters.peek()) {
      this.admit(head);
      this.waiters.resolveHead();
    }
  }
}
