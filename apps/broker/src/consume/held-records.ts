/**
 * Records held back behind a blocked key (BLOCK_KEY, DESIGN.md "Settling"),
 * for one partition of one subscription: while a record of a key waits for
 * its retry (or its delivery time), the key's later records wait here, in
 * offset order, and leave together, in order, when the key unblocks.
 *
 * Holding them apart is what keeps dispatch linear: a held record is looked
 * at once, when it is held, instead of on every pass over the read-ahead or
 * the redeliveries (with 10% of first attempts failing over 1,000 keys,
 * thousands of records wait behind retries at any time).
 *
 * Up to `limits.records` held records, and `limits.bytes` of their stored
 * bytes, keep their bytes; beyond that only the offset is kept and the
 * record is read from the log again when its key unblocks, so a key blocked
 * for days holds neither the read-ahead nor memory.
 */
import type { FeedRecord } from './partition-feed.js';

/** One held record: its offset, and its bytes while the memory limit allows. */
export interface HeldRecord {
  readonly offset: number;
  readonly record: FeedRecord | undefined;
}

/** How many held records, and how many of their bytes, stay in memory. */
export interface HeldRecordLimits {
  records: number;
  bytes: number;
}

/** See the file comment. */
export class HeldRecords {
  private readonly byKey = new Map<string, HeldRecord[]>();
  private withBytes = 0;
  private bytesHeld = 0;
  private count = 0;

  constructor(private readonly limits: HeldRecordLimits) {}

  /** Records held. */
  get size(): number {
    return this.count;
  }

  /** Held records that kept their bytes. */
  get inMemory(): number {
    return this.withBytes;
  }

  /** Stored bytes of the held records that kept them. */
  get bytesInMemory(): number {
    return this.bytesHeld;
  }

  /** The lowest offset held for `keyId`, if any. */
  firstOffset(keyId: string): number | undefined {
    return this.byKey.get(keyId)?.[0]?.offset;
  }

  /** Holds `record` (or, beyond the memory limit, only its offset) behind its key. */
  hold(keyId: string, record: FeedRecord): void {
    this.insert(keyId, record.offset, record);
  }

  /** Holds again what `take` returned (reading it back failed), keeping bytes while the limits allow. */
  restore(keyId: string, entries: readonly HeldRecord[]): void {
    for (const entry of entries) this.insert(keyId, entry.offset, entry.record);
  }

  private insert(keyId: string, offset: number, record: FeedRecord | undefined): void {
    let held = this.byKey.get(keyId);
    if (!held) {
      held = [];
      this.byKey.set(keyId, held);
    }
    // Mostly appended (the read-ahead goes up); a released redelivery may go in earlier.
    let at = held.length;
    while (at > 0 && (held[at - 1]?.offset ?? 0) > offset) at--;
    if (held[at - 1]?.offset === offset) return;
    const keep = record !== undefined && this.withBytes < this.limits.records && this.bytesHeld + record.payload.length <= this.limits.bytes;
    if (keep) {
      this.withBytes++;
      this.bytesHeld += record.payload.length;
    }
    this.count++;
    held.splice(at, 0, { offset, record: keep ? record : undefined });
  }

  /**
   * Removes and returns what is held for `keyId` up to offset `upTo`
   * (everything by default), lowest offset first.
   */
  take(keyId: string, upTo = Number.POSITIVE_INFINITY): HeldRecord[] {
    const held = this.byKey.get(keyId);
    if (!held) return [];
    let end = 0;
    while (end < held.length && (held[end]?.offset ?? 0) <= upTo) end++;
    const taken = end === held.length ? held : held.splice(0, end);
    if (taken === held) this.byKey.delete(keyId);
    this.count -= taken.length;
    for (const entry of taken) {
      if (!entry.record) continue;
      this.withBytes--;
      this.bytesHeld -= entry.record.payload.length;
    }
    return taken;
  }

  /** Every held offset (for describe and tests). */
  offsets(): number[] {
    const offsets: number[] = [];
    for (const held of this.byKey.values()) for (const entry of held) offsets.push(entry.offset);
    return offsets.sort((a, b) => a - b);
  }
}
