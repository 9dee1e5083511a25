/**
 * A one-shot timer on an injected `Clock`, for batchers that send what they
 * collected after a linger: `arm()` starts it unless it is running,
 * `disarm()` cancels it, and it calls `onFire` once when it runs out.
 */
import type { Clock } from '@braid/core';

/** See the file comment. */
export class FlushTimer {
  private current: AbortController | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: () => number,
    private readonly onFire: () => void,
  ) {}

  /** Starts the timer unless it is already running. */
  arm(): void {
    if (this.current) return;
    const timer = new AbortController();
    this.current = timer;
    this.clock.sleep(this.delayMs(), timer.signal).then(
      () => {
        if (this.current !== timer) return;
        this.current = undefined;
        this.onFire();
      },
      () => undefined, // Disarmed meanwhile.
    );
  }

  /** Cancels the timer if it is running. */
  disarm(): void {
    this.current?.abort();
    this.current = undefined;
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
