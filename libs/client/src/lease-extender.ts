/**
 * Automatic lease extension for one Subscribe stream (nodejs-pubsub's lease
 * manager): while a delivered record is held and not settled, its lease is
 * pushed out before it ends, at `extendAt` (2/3) of the remaining time, so an
 * extension has the rest of the lease to reach the broker. Extensions stop
 * once the record has been held for `maxExtensionMs` since its delivery;
 * the lease then runs out, the attempt counts as failed and the broker
 * delivers the record again (a stuck handler cannot hold a record forever).
 *
 * Records due at the same moment go out as one `extend` request, their
 * offsets coalesced into ranges. One timer serves the whole stream.
 */
import type { Clock } from '@braid/core';
import type { OffsetRange } from '@braid/proto';
import { toRanges } from './offset-ranges.js';
import type { Position } from './offset-ranges.js';

/** Options of {@link LeaseExtender}. */
export interface LeaseExtenderOptions {
  /** Time source; deadlines are this clock's milliseconds. */
  clock: Clock;
  /** Length of a lease, and of each automatic extension, in ms (the subscription's ack timeout). */
  leaseMs: () => number;
  /** Keep extending a record for at most this long after its delivery, in ms; 0 turns automatic extension off. */
  maxExtensionMs: number;
  /** Fraction of the remaining lease after which it is extended, in (0, 1). */
  extendAt: number;
  /** Sends one `extend` request. */
  send: (ranges: OffsetRange[], extendMs: number) => void;
}

interface Lease {
  readonly position: Position;
  readonly receivedAt: number;
  /** When the lease ends (clock ms). */
  deadline: number;
  /** When to extend it next (clock ms); undefined once automatic extension gave up. */
  extendAt: number | undefined;
}

/** See the file comment. `K` is whatever identifies a held record (a `Message`). */
export class LeaseExtender<K extends Position> {
  private readonly leases = new Map<K, Lease>();
  private timer: AbortController | undefined;
  private timerDue = Number.POSITIVE_INFINITY;

  constructor(private readonly options: LeaseExtenderOptions) {}

  /** Records tracked. */
  get size(): number {
    return this.leases.size;
  }

  /**
   * Starts tracking a delivered record whose lease ends at `deadlineMs`
   * (the broker's Unix ms). A deadline further away than one lease (clock
   * skew) is taken as one lease from now.
   */
  add(key: K, deadlineMs: number): void {
    const now = this.options.clock.now();
    const remaining = Math.min(Math.max(0, deadlineMs - now), this.options.leaseMs());
    const lease: Lease = { position: key, receivedAt: now, deadline: now + remaining, extendAt: undefined };
    if (this.options.maxExtensionMs > 0) lease.extendAt = now + remaining * this.options.extendAt;
    this.leases.set(key, lease);
    this.arm(lease.extendAt);
  }

  /** Stops tracking a record (settled, or given up). */
  remove(key: K): void {
    // The timer stays armed when the last record goes: with fast handlers
    // the count touches zero constantly, and aborting and re-arming a timer
    // each time cost more than one idle tick.
    this.leases.delete(key);
  }

  /** Whether a record is tracked. */
  has(key: K): boolean {
    return this.leases.has(key);
  }

  /** The record's lease deadline (clock ms), if tracked. */
  deadline(key: K): number | undefined {
    return this.leases.get(key)?.deadline;
  }

  /**
   * Extends one record's lease to `ms` from now, at once (an explicit
   * `msg.extend(ms)`); automatic extension carries on from the new deadline.
   */
  extend(key: K, ms: number): void {
    const lease = this.leases.get(key);
    if (!lease) return;
    const now = this.options.clock.now();
    this.options.send(toRanges([lease.position]), ms);
    lease.deadline = now + ms;
    if (lease.extendAt !== undefined) {
      lease.extendAt = now + ms * this.options.extendAt;
      this.arm(lease.extendAt);
    }
  }

  /** Forgets every record and stops the timer (the stream is gone). */
  clear(): void {
    this.leases.clear();
    this.stopTimer();
  }

  /** Sends the extensions that are due, then re-arms for the next. */
  private tick(): void {
    const now = this.options.clock.now();
    const leaseMs = this.options.leaseMs();
    const due = new Map<number, Position[]>();
    for (const lease of this.leases.values()) {
      if (lease.extendAt === undefined || lease.extendAt > now) continue;
      // Never past the budget: the lease ends at receivedAt + maxExtensionMs at the latest.
      const extendMs = Math.floor(Math.min(leaseMs, lease.receivedAt + this.options.maxExtensionMs - now));
      if (extendMs < 1) {
        lease.extendAt = undefined;
        continue;
      }
      let positions = due.get(extendMs);
      if (!positions) {
        positions = [];
        due.set(extendMs, positions);
      }
      positions.push(lease.position);
      lease.deadline = now + extendMs;
      lease.extendAt = extendMs < leaseMs ? undefined : now + extendMs * this.options.extendAt;
    }
    for (const [extendMs, positions] of due) this.options.send(toRanges(positions), extendMs);
    let next: number | undefined;
    for (const lease of this.leases.values()) {
      if (lease.extendAt !== undefined && (next === undefined || lease.extendAt < next)) next = lease.extendAt;
    }
    this.arm(next);
  }

  /** Makes sure the timer fires by `at` (clock ms). */
  private arm(at: number | undefined): void {
    if (at === undefined || (this.timer && this.timerDue <= at)) return;
    this.stopTimer();
    const timer = new AbortController();
    this.timer = timer;
    this.timerDue = at;
    this.options.clock.sleep(Math.max(0, at - this.options.clock.now()), timer.signal).then(
      () => {
        if (this.timer !== timer) return;
        this.timer = undefined;
        this.timerDue = Number.POSITIVE_INFINITY;
        this.tick();
      },
      () => undefined, // Aborted: re-armed earlier, or cleared.
    );
  }

  private stopTimer(): void {
    this.timer?.abort();
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }
}
