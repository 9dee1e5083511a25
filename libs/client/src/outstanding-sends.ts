/**
 * The producer's `send()` calls that have not finished, in call order, for
 * `flush()`: "every send made before now has finished" is the call index
 * of the oldest one still open passing the index of the last one made.
 *
 * Calls finish out of order (partitions answer independently), so each
 * finished call leaves a hole that the head steps over once the calls
 * before it are done: O(1) per call, where a Set of open calls costs a hash
 * insert and delete per call and rehashes as tens of thousands come and go.
 */
import { dropConsumed } from '@braid/core';
import type { CompletionTracker, SendCompletion } from './send-completion.js';

interface Waiter {
  /** Resolve once this many calls (from the first) have finished. */
  readonly through: number;
  readonly resolve: () => void;
}

/** See the file comment. */
export class OutstandingSends implements CompletionTracker {
  private calls: (SendCompletion | undefined)[] = [];
  /** Index in `calls` of the oldest call that may be open. */
  private head = 0;
  /** Calls dropped from the front of `calls` (all finished). */
  private dropped = 0;
  private open = 0;
  private waiters: Waiter[] = [];

  /** Calls not finished yet. */
  get size(): number {
    return this.open;
  }

  /** Notes a new call. */
  add(completion: SendCompletion): void {
    completion.sequence = this.dropped + this.calls.length;
    this.calls.push(completion);
    this.open += 1;
  }

  /** A call finished (every record acknowledged or failed). */
  completionDone(completion: SendCompletion): void {
    const at = completion.sequence - this.dropped;
    if (this.calls[at] !== completion) return;
    this.calls[at] = undefined;
    this.open -= 1;
    if (at !== this.head) return;
    while (this.head < this.calls.length && this.calls[this.head] === undefined) this.head += 1;
    const finished = this.dropped + this.head;
    const kept = dropConsumed(this.calls, this.head, 1024);
    if (kept) {
      this.dropped += this.head;
      this.calls = kept;
      this.head = 0;
    }
    if (this.waiters.length > 0 && (this.waiters[0] as Waiter).through <= finished) {
      const ready = this.waiters.filter((w) => w.through <= finished);
      this.waiters = this.waiters.filter((w) => w.through > finished);
      for (const waiter of ready) waiter.resolve();
    }
  }

  /** Resolves once every call noted so far has finished. */
  whenDone(): Promise<void> {
    const through = this.dropped + this.calls.length;
    if (this.dropped + this.head >= through) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ through, resolve }));
  }
}
