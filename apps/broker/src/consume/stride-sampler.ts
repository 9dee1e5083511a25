/**
 * A uniform sample of a stream of events that may be too frequent to
 * handle each (the broker's end-to-end latency histogram): every event
 * while they are few, every n-th when they are many, n chosen once a
 * second from the last second's rate. Systematic rather than random, so
 * taking or skipping costs a decrement.
 */
import type { Clock } from '@braid/core';

/** Takes about `perSecond` events per second: all of them while fewer arrive (see the file comment). */
export class StrideSampler {
  private stride = 1;
  private countdown = 1;
  private windowStart: number;
  private seen = 0;

  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock,
  ) {
    this.windowStart = clock.now();
  }

  /** Call once per batch of events (not per event): adjusts the stride once a second. */
  tick(): void {
    const now = this.clock.now();
    const elapsed = now - this.windowStart;
    if (elapsed < 1000) return;
    const rate = (this.seen * 1000) / elapsed;
    this.stride = Math.max(1, Math.ceil(rate / this.perSecond));
    this.countdown = Math.min(this.countdown, this.stride);
    this.windowStart = now;
    this.seen = 0;
  }

  /** Whether to take this event. */
  take(): boolean {
    this.seen++;
    if (--this.countdown > 0) return false;
    this.countdown = this.stride;
    return true;
  }
}

