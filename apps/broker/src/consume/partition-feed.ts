/**
 * Reads one partition ahead for one subscription: a bounded buffer of the
 * next records after the read position, as stored, with just what dispatch
 * needs read out of them (key for ownership, size for byte credit). Records leave the buffer when
 * they are handed to a member; records that could not be handed out yet
 * (their owner has no credit) stay and keep their order.
 */
import { dropConsumed } from '@braid/core';
import type { PartitionLog } from '@braid/storage';
import { scanStoredRecord } from './delivery-encoding.js';

/** A record ready to be handed out: its stored bytes and what dispatch needs of them. */
export interface FeedRecord {
  readonly partition: number;
  readonly offset: number;
  /** The stored `StoredRecord` bytes, sent on as they are (`delivery-encoding.ts`). */
  readonly payload: Uint8Array;
  /** The key, if the record has one. */
  readonly key: Buffer | undefined;
  /** The key as a string id (one char per byte, for per-key hand-over), if the record has a key. */
  readonly keyId: string | undefined;
  /** Bytes counted against byte credit: key + value. */
  readonly bytes: number;
  /** Earliest delivery time (Unix ms) asked for at publish; 0 if none. */
  readonly deliverAtMs: number;
  /** The only subscription the record is for (a redrive); undefined: all. */
  readonly targetSubscription: string | undefined;
  /** Times the record was redriven from a dead-letter queue. */
  readonly redriveCount: number;
  /** Publish time (Unix ms), from the log: the start of its end-to-end latency. */
  readonly timestampMs: number;
}

/** Records read ahead at most, per partition and subscription. */
export const feedCapacity = 2_000;
/** Bytes read per log read. */
const readChunkBytes = 1024 * 1024;

/** Reads what dispatch needs from a stored payload. */
export function feedRecord(partition: number, offset: number, payload: Uint8Array, timestampMs: number): FeedRecord {
  const { key, valueLength, deliverAtMs, targetSubscription, redriveCount } = scanStoredRecord(payload);
  return {
    partition,
    offset,
    payload,
    key,
    keyId: key === undefined ? undefined : key.toString('latin1'),
    bytes: (key?.length ?? 0) + valueLength,
    deliverAtMs,
    targetSubscription,
    redriveCount,
    timestampMs,
  };
}

/**
 * See the file comment. The buffer is an array consumed from a moving head:
 * handing out the first record (the common case) is O(1), and a record
 * taken from the middle (KEY_SHARED skipping a busy key) leaves a hole that
 * the head steps over later.
 */
export class PartitionFeed {
  private buffer: (FeedRecord | undefined)[] = [];
  private head = 0;
  private count = 0;
  private readPosition: number;
  private reading: Promise<void> | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly log: PartitionLog,
    start: number,
    /** Whether an offset still needs delivery (not settled, not out with a member). */
    private readonly needsDelivery: (offset: number) => boolean,
  ) {
    this.readPosition = Math.max(start, log.logStartOffset);
  }

  /**
   * Buffered records with their slots, in offset order. Slots stay valid
   * until the next `records()` or `fill()` call (which may compact).
   */
  *records(): Generator<{ record: FeedRecord; slot: number }> {
    this.compact();
    for (let slot = this.head; slot < this.buffer.length; slot++) {
      const record = this.buffer[slot];
      if (record) yield { record, slot };
    }
  }

  /** Records buffered. */
  get size(): number {
    return this.count;
  }

  /** Removes the handed-out record at `slot` (from `records()`). */
  remove(slot: number): void {
    if (this.buffer[slot] === undefined) return;
    this.buffer[slot] = undefined;
    this.count--;
    while (this.head < this.buffer.length && this.buffer[this.head] === undefined) this.head++;
  }

  /** Drops consumed slots at the head (renumbers slots). */
  private compact(): void {
    const kept = dropConsumed(this.buffer, this.head, 1024);
    if (kept) {
      this.buffer = kept;
      this.head = 0;
    }
  }

  /** Whether more records can be read now. */
  get canRead(): boolean {
    return this.count < feedCapacity && this.readPosition < this.log.highWatermark;
  }

  /** Restarts reading at `offset` (seek); drops the buffer. */
  reset(offset: number): void {
    this.buffer = [];
    this.head = 0;
    this.count = 0;
    this.readPosition = Math.max(offset, this.log.logStartOffset);
  }

  /** Whether a read is in progress. */
  get busy(): boolean {
    return this.reading !== undefined;
  }

  /** Reads the next chunk into the buffer; resolves at once if nothing is to read. */
  fill(): Promise<void> {
    if (this.reading) return this.reading;
    if (!this.canRead) return Promise.resolve();
    this.reading = (async () => {
      try {
        this.compact();
        const entries = await this.log.read(this.readPosition, {
          maxRecords: feedCapacity - this.count,
          maxBytes: readChunkBytes,
        });
        for (const entry of entries) {
          this.readPosition = entry.offset + 1;
          // Acknowledged out of order before a restart, or already out with a member.
          if (!this.needsDelivery(entry.offset)) continue;
          this.buffer.push(feedRecord(this.partition, entry.offset, entry.payload, entry.timestampMs));
          this.count++;
        }
        // Retention may have removed what we were about to read.
        if (entries.length === 0 && this.readPosition < this.log.logStartOffset) this.readPosition = this.log.logStartOffset;
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  /**
   * Reads records by offset (held records, retries and delayed records that
   * came due), in one lookup; what retention deleted is missing from the map.
   */
  async readAt(offsets: readonly number[]): Promise<Map<number, FeedRecord>> {
    const records = new Map<number, FeedRecord>();
    for (const entry of await this.log.readOffsets(offsets)) records.set(entry.offset, feedRecord(this.partition, entry.offset, entry.payload, entry.timestampMs));
    return records;
  }
}
