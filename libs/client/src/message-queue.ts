/**
 * The queue between the Subscribe streams and the application's
 * `for await` loop: deliveries in arrival order, handed to whoever awaits
 * `next()`. It has no capacity of its own because it needs none: every item
 * holds credit until it is settled, so the brokers can never have put more
 * in it than the consumer's prefetch (DESIGN.md, "Flow control").
 */
import { dropConsumed } from '@braid/core';
import { takeMatching } from './take-matching.js';

interface Waiter<T> {
  resolve: (result: IteratorResult<T>) => void;
  reject: (error: unknown) => void;
}

/** See the file comment. */
export class MessageQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiters: Waiter<T>[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;

  /** @param onWait - called whenever a `next()` has to wait: the application is starved. */
  constructor(private readonly onWait: () => void = () => undefined) {}

  /** Items waiting to be taken. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Whether `close()` or `fail()` was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Appends items in order, serving waiting `next()` calls first. Ignored once ended. */
  push(items: readonly T[]): void {
    if (this.ended) return;
    for (const item of items) {
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve({ done: false, value: item });
      else this.items.push(item);
    }
  }

  /**
   * The next item, waiting for one if necessary. Resolves `done` once the
   * queue is closed; rejects with the error once it failed.
   */
  next(): Promise<IteratorResult<T>> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.length > 0) {
      const value = this.items[this.head] as T;
      this.head += 1;
      this.compact();
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    const waiting = new Promise<IteratorResult<T>>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.onWait();
    return waiting;
  }

  /** Takes out (and returns) every waiting item that matches. */
  remove(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept = takeMatching(this.items, this.head, predicate, removed);
    if (kept) {
      this.items = kept;
      this.head = 0;
    }
    return removed;
  }

  /** Ends the queue: waiting and later `next()` calls resolve `done`. Returns the items never taken. */
  close(): T[] {
    const left = this.drain();
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
    return left;
  }

  /** Ends the queue with an error: waiting and later `next()` calls reject with it. Returns the items never taken. */
  fail(error: unknown): T[] {
    this.failure = { error };
    const left = this.drain();
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    return left;
  }

  private drain(): T[] {
    this.ended = true;
    const left = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return left;
  }

  private compact(): void {
    const kept = dropConsumed(this.items, this.head, 1024);
    if (kept) {
      this.items = kept;
      this.head = 0;
    }
  }
}
