/**
 * The delivery state of one subscription on one partition: the cursor
 * (every offset below it is settled), acknowledgements above the cursor,
 * the leases of records out with members, delivery attempt counts, the
 * records that must be delivered again (attempt + 1), and the failed
 * records that wait (for a retry timer, or while they are dead-lettered).
 *
 * Ending a lease and deciding what comes next are separate: `expire()`,
 * `release()` and `fail()` end leases and return them; the dispatcher then
 * requeues a record (`requeue`, `handBack`), parks it (`wait`, later
 * `wake`) or settles it (`settle`, after dead-lettering).
 *
 * The ledger does not read the log: a reader hands records to members and
 * reports each hand-out with `deliver()`. After a restart the cursor and
 * acknowledgements come back from storage, every unacknowledged offset above
 * the cursor is delivered again, and attempt counts continue.
 */
import { OffsetRangeSet } from '@braid/storage';
import type { Clock } from '@braid/core';

/** A record out with a member. */
export interface Lease {
  readonly offset: number;
  readonly memberId: string;
  /** Delivery attempt, 1 for the first. */
  readonly attempt: number;
  /** When the attempt counts as failed (Unix ms). */
  deadline: number;
  /** The record's key as a string id (KEY_SHARED hand-over), if any. */
  readonly keyId: string | undefined;
  /** Bytes of the delivery (credit accounting). */
  readonly bytes: number;
}

/** What the ledger persists. */
export interface LedgerSnapshot {
  cursor: number;
  acked: OffsetRangeSet;
  attempts: Map<number, number>;
}

/** Outcome of an ack or extend over a range. */
export interface SettleOutcome {
  /** Offsets the member held and settled (or extended), or that were settled already. */
  applied: number;
  /** Offsets in the range that the member does not hold (not delivered to it, or already expired). */
  notHeld: number;
  /** The leases this call ended (acks only). */
  settled: Lease[];
}

/** See the file comment. */
export class DeliveryLedger {
  private cursorValue: number;
  private readonly acked: OffsetRangeSet;
  private readonly attempts: Map<number, number>;
  private readonly leases = new Map<number, Lease>();
  private readonly leasesByMember = new Map<string, Set<number>>();
  /** Offsets to deliver again, kept sorted ascending. */
  private redeliver: number[] = [];
  /**
   * Offsets waiting: failed ones (for a retry, or while dead-lettered) and
   * delayed ones. As ranges: a million records delayed together are a few
   * ranges, not a million set entries on the heap.
   */
  private readonly waitingSet = new OffsetRangeSet();

  constructor(
    state: LedgerSnapshot,
    private readonly clock: Clock,
  ) {
    this.cursorValue = state.cursor;
    this.acked = state.acked;
    this.attempts = state.attempts;
    this.cursorValue = this.acked.advance(this.cursorValue);
    this.dropAttemptsBelow(this.cursorValue);
  }

  /** Every offset below the cursor is settled. */
  get cursor(): number {
    return this.cursorValue;
  }

  /** Records out with members. */
  get outstanding(): number {
    return this.leases.size;
  }

  /** Records waiting to be delivered again (queued, or waiting for a retry). */
  get pendingRedeliveries(): number {
    return this.redeliver.length + this.waitingSet.size;
  }

  /** Failed records waiting for a retry or being dead-lettered. */
  get waiting(): number {
    return this.waitingSet.size;
  }

  /** Offsets waiting (failed records, delayed records). */
  waitingOffsets(): number[] {
    return this.waitingSet.offsets();
  }

  /** Whether `offset` is a failed record waiting for a retry or being dead-lettered. */
  isWaiting(offset: number): boolean {
    return this.waitingSet.has(offset);
  }

  /** Delivery attempts made so far for `offset`. */
  attemptsOf(offset: number): number {
    return this.attempts.get(offset) ?? 0;
  }

  /** Records `memberId` holds. */
  heldBy(memberId: string): number {
    return this.leasesByMember.get(memberId)?.size ?? 0;
  }

  /** Whether `offset` still needs a delivery (not settled, not out with a member). */
  needsDelivery(offset: number): boolean {
    return offset >= this.cursorValue && !this.acked.has(offset) && !this.leases.has(offset) && !this.waitingSet.has(offset);
  }

  /** The lease of `offset`, if it is out with a member. */
  lease(offset: number): Lease | undefined {
    return this.leases.get(offset);
  }

  /** The lowest offset waiting for redelivery, if any. */
  nextRedelivery(): number | undefined {
    return this.redeliver[0];
  }

  /** Offsets waiting for redelivery, ascending. */
  redeliveries(): readonly number[] {
    return this.redeliver;
  }

  /** Records a hand-out of `offset` to `memberId`; returns its lease (attempt counted). */
  deliver(offset: number, memberId: string, keyId: string | undefined, bytes: number, leaseMs: number): Lease {
    if (!this.needsDelivery(offset)) throw new Error(`offset ${offset} is settled or already out with a member`);
    const attempt = (this.attempts.get(offset) ?? 0) + 1;
    this.attempts.set(offset, attempt);
    const lease: Lease = { offset, memberId, attempt, deadline: this.clock.now() + leaseMs, keyId, bytes };
    this.leases.set(offset, lease);
    let held = this.leasesByMember.get(memberId);
    if (!held) {
      held = new Set();
      this.leasesByMember.set(memberId, held);
    }
    held.add(offset);
    this.removeRedelivery(offset);
    return lease;
  }

  /**
   * Acknowledges the records in [first, last] that `memberId` holds. Offsets
   * already settled count as applied (acks are idempotent); offsets the
   * member does not hold are reported in `notHeld` and left alone.
   */
  ack(memberId: string, first: number, last: number): SettleOutcome {
    let applied = 0;
    let notHeld = 0;
    const settled: Lease[] = [];
    this.forEachOffset(memberId, first, last, (offset, lease) => {
      if (lease?.memberId === memberId) {
        this.dropLease(lease);
        this.acked.add(offset);
        this.attempts.delete(offset);
        settled.push(lease);
        applied++;
      } else if (offset < this.cursorValue || this.acked.has(offset)) {
        applied++;
      } else {
        notHeld++;
      }
    });
    this.advance();
    return { applied, notHeld, settled };
  }

  /**
   * Moves the cursor over the acknowledged offsets that continue it. No
   * attempt count is left below it to drop: every way an offset becomes
   * settled (`ack`, `settle`) drops its count, and counts are only set for
   * offsets that are not settled. That keeps this O(log ranges) per ack
   * instead of a walk over every count (one per record out with a member).
   */
  private advance(): void {
    this.cursorValue = this.acked.advance(this.cursorValue);
  }

  /** Drops the attempt counts of settled offsets below `cursor` (a loaded snapshot's). */
  private dropAttemptsBelow(cursor: number): void {
    for (const offset of this.attempts.keys()) if (offset < cursor) this.attempts.delete(offset);
  }

  /** Pushes the leases `memberId` holds in [first, last] to now + `leaseMs`. */
  extend(memberId: string, first: number, last: number, leaseMs: number): SettleOutcome {
    let applied = 0;
    let notHeld = 0;
    const deadline = this.clock.now() + leaseMs;
    this.forEachOffset(memberId, first, last, (_offset, lease) => {
      if (lease?.memberId === memberId) {
        lease.deadline = deadline;
        applied++;
      } else {
        notHeld++;
      }
    });
    return { applied, notHeld, settled: [] };
  }

  /**
   * Ends `memberId`'s lease on `offset` (a nack or reject) and returns it;
   * undefined if the member does not hold it. The caller decides what
   * happens to the record next.
   */
  fail(memberId: string, offset: number): Lease | undefined {
    const lease = this.leases.get(offset);
    if (lease?.memberId !== memberId) return undefined;
    this.dropLease(lease);
    return lease;
  }

  /** Ends every lease past its deadline and returns them (for the caller to retry or dead-letter). */
  expire(now: number = this.clock.now()): Lease[] {
    const expired: Lease[] = [];
    for (const lease of this.leases.values()) if (lease.deadline <= now) expired.push(lease);
    for (const lease of expired) this.dropLease(lease);
    return expired;
  }

  /** Ends every lease of a member that left and returns them. */
  release(memberId: string): Lease[] {
    const released: Lease[] = [];
    for (const offset of [...(this.leasesByMember.get(memberId) ?? [])]) {
      const lease = this.leases.get(offset);
      if (!lease) continue;
      this.dropLease(lease);
      released.push(lease);
    }
    return released;
  }

  /** Queues an offset whose lease ended for delivery again (attempt + 1). */
  requeue(offset: number): void {
    this.waitingSet.delete(offset);
    const at = this.insertionPoint(offset);
    if (this.redeliver[at] !== offset) this.redeliver.splice(at, 0, offset);
  }

  /**
   * Queues a record handed back unprocessed (a release): delivered again
   * without counting the attempt that handed it out.
   */
  handBack(lease: Lease): void {
    if (lease.attempt <= 1) this.attempts.delete(lease.offset);
    else this.attempts.set(lease.offset, lease.attempt - 1);
    this.requeue(lease.offset);
  }

  /** Takes a queued offset off the redelivery queue without settling it (held back behind its key). */
  unqueue(offset: number): void {
    this.removeRedelivery(offset);
  }

  /** Parks a failed offset: it waits (for a retry timer, or while it is dead-lettered) and is not delivered. */
  wait(offset: number): void {
    this.removeRedelivery(offset);
    this.waitingSet.add(offset);
  }

  /** A waiting offset is due: it is delivered again. False if it was not waiting. */
  wake(offset: number): boolean {
    if (!this.waitingSet.has(offset)) return false;
    this.requeue(offset);
    return true;
  }

  /**
   * Settles an offset that no member holds (it was dead-lettered): it counts
   * as acknowledged.
   */
  settle(offset: number): void {
    this.waitingSet.delete(offset);
    this.removeRedelivery(offset);
    const lease = this.leases.get(offset);
    if (lease) this.dropLease(lease);
    this.attempts.delete(offset);
    if (offset < this.cursorValue) return;
    this.acked.add(offset);
    this.advance();
  }

  /** Restores an attempt count (loading pending retries after a restart). */
  restoreAttempts(offset: number, attempts: number): void {
    // A settled offset keeps no count (see `advance`).
    if (offset < this.cursorValue || this.acked.has(offset)) return;
    if (attempts > (this.attempts.get(offset) ?? 0)) this.attempts.set(offset, attempts);
  }

  /** The earliest lease deadline, for the expiry timer. */
  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const lease of this.leases.values()) if (earliest === undefined || lease.deadline < earliest) earliest = lease.deadline;
    return earliest;
  }

  /** The state to persist. */
  snapshot(): LedgerSnapshot {
    return { cursor: this.cursorValue, acked: this.acked, attempts: this.attempts };
  }

  private forEachOffset(memberId: string, first: number, last: number, visit: (offset: number, lease: Lease | undefined) => void): void {
    const span = last - first + 1;
    const held = this.leasesByMember.get(memberId);
    // A huge range (ack 0..1e9) is walked over the member's leases, not offset by offset.
    if (span > 4 * (held?.size ?? 0) + 1024) {
      for (const offset of [...(held ?? [])]) if (offset >= first && offset <= last) visit(offset, this.leases.get(offset));
      return;
    }
    for (let offset = first; offset <= last; offset++) visit(offset, this.leases.get(offset));
  }

  private dropLease(lease: Lease): void {
    this.leases.delete(lease.offset);
    const held = this.leasesByMember.get(lease.memberId);
    held?.delete(lease.offset);
    if (held?.size === 0) this.leasesByMember.delete(lease.memberId);
  }

  private removeRedelivery(offset: number): void {
    const at = this.insertionPoint(offset);
    if (this.redeliver[at] === offset) this.redeliver.splice(at, 1);
  }

  private insertionPoint(offset: number): number {
    let lo = 0;
    let hi = this.redeliver.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.redeliver[mid] ?? 0) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
