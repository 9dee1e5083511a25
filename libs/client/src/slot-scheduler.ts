/**
 * Key-ordered concurrency inside one consumer ("threads in a consumer break
 * ordering", and this is the fix): `slots` serial queues, each record placed
 * by its key with `slotForKey(key, slots)` (consistent hashing, from
 * `@braid/partitioning`), keyless records round-robin. A slot runs one
 * handler at a time, in arrival order, so records of one key are processed
 * one after another in order while different keys run in parallel on up to
 * `slots` handlers.
 *
 * Nothing here bounds memory: every queued record holds consumer credit
 * until it is settled, so the queues together never hold more than the
 * prefetch.
 */
import { RoundRobin, slotForKey } from '@braid/partitioning';
import { takeMatching } from './take-matching.js';

/** An item with an optional ordering key. */
export interface Keyed {
  readonly key: Uint8Array | undefined;
}

/** Options of {@link SlotScheduler}. */
export interface SlotSchedulerOptions<T> {
  /** Handlers running at once, >= 1. */
  slots: number;
  /** Processes one item; it must not reject (the caller settles failures). */
  run: (item: T) => Promise<void>;
}

interface Slot<T> {
  queue: T[];
  running: boolean;
}

/** See the file comment. */
export class SlotScheduler<T extends Keyed> {
  private readonly slots: Slot<T>[];
  private readonly roundRobin = new RoundRobin();
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  /** @throws RangeError unless `slots` is a whole number >= 1. */
  constructor(private readonly options: SlotSchedulerOptions<T>) {
    if (!Number.isSafeInteger(options.slots) || options.slots < 1) {
      throw new RangeError(`concurrency must be a whole number >= 1, got ${String(options.slots)}`);
    }
    this.slots = Array.from({ length: options.slots }, () => ({ queue: [], running: false }));
  }

  /** Handlers running now (at most one per slot). */
  get running(): number {
    return this.active;
  }

  /** Items queued and not started. */
  get queued(): number {
    return this.slots.reduce((sum, slot) => sum + slot.queue.length, 0);
  }

  /** Queues `item` on its key's slot and starts the slot if it is idle. */
  submit(item: T): void {
    const index = slotForKey(item.key, this.options.slots) ?? this.roundRobin.next(this.options.slots);
    const slot = this.slots[index] as Slot<T>;
    slot.queue.push(item);
    if (!slot.running) void this.drain(slot);
  }

  /** Takes out every queued, not yet started item (running handlers go on). */
  cancelQueued(): T[] {
    return this.slots.flatMap((slot) => slot.queue.splice(0));
  }

  /** Takes out the queued, not yet started items that match, keeping the order of the rest. */
  remove(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const slot of this.slots) removeFrom(slot, predicate, removed);
    return removed;
  }

  /**
   * Like `remove`, over the slot of `key` alone: items of a key are only
   * ever queued there, so a predicate that matches one key need not visit
   * the other slots.
   */
  removeOfKey(key: Uint8Array, predicate: (item: T) => boolean): T[] {
    const index = slotForKey(key, this.options.slots);
    const slot = index === undefined ? undefined : this.slots[index];
    if (!slot) return this.remove(predicate);
    const removed: T[] = [];
    removeFrom(slot, predicate, removed);
    return removed;
  }

  /** Resolves once no handler runs and nothing is queued. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(slot: Slot<T>): Promise<void> {
    slot.running = true;
    this.active += 1;
    try {
      for (let item = slot.queue.shift(); item !== undefined; item = slot.queue.shift()) {
        await this.options.run(item);
      }
    } finally {
      slot.running = false;
      this.active -= 1;
      if (this.isIdle()) for (const waiter of this.idleWaiters.splice(0)) waiter();
    }
  }

  private isIdle(): boolean {
    return this.active === 0 && this.slots.every((slot) => slot.queue.length === 0);
  }
}

/** Moves the items of `slot` that match into `removed`; the queue is replaced only when one does. */
function removeFrom<T>(slot: Slot<T>, predicate: (item: T) => boolean, removed: T[]): void {
  const kept = takeMatching(slot.queue, 0, predicate, removed);
  if (kept) slot.queue = kept;
}
