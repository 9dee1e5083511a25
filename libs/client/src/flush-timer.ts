/**
 * A one-shot timer on an injected `Clock`, for batchers that send what they
 * collected after a linger: `arm()` starts it unless it is running,
 * `disarm()` cancels it, and it calls `onFire` once when it runs out.
 */
import type { Clock } from '@braid/core';

/**
 * See the file comment. Disarming does not cancel the clock's sleep (an
 * `AbortController` per batch and the `AbortError` it throws were a visible
 * share of a consumer's CPU, as acks and credit are flushed hundreds of
 * times a second): the sleep runs out and, being stale, does nothing.
 */
export class FlushTimer {
  /** Identifies the running timer; a sleep of an older generation is stale. */
  private generation = 0;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: () => number,
    private readonly onFire: () => void,
  ) {}

  /** Starts the timer unless it is already running. */
  arm(): void {
    if (this.running) return;
    this.running = true;
    const generation = ++this.generation;
    void this.clock.sleep(this.delayMs()).then(() => {
      if (this.generation !== generation || !this.running) return;
      this.running = false;
      this.onFire();
    });
  }

  /** Cancels the timer if it is running. */
  disarm(): void {
    this.running = false;
  }
}

/**
 * Waits for `work` at most `timeoutMs` on `clock`; resolves true when the
 * time ran out first (the work goes on; the caller decides what to abort).
 */
export async function timedOut(work: Promise<unknown>, clock: Clock, timeoutMs: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      work.then(() => false),
      clock.sleep(timeoutMs, timer.signal).then(
        () => true,
        () => false,
      ),
    ]);
  } finally {
    timer.abort();
  }
}
