/**
 * One partition's log: offsets assigned in call order, records visible only
 * once durable, reads by offset and by time, idempotent producers, and the
 * head trimming that retention drives.
 *
 * Two views of the state are kept. The *assigned* view (next offset, size,
 * log start, producer sequences) moves synchronously when an append is
 * accepted, so offsets and sequence checks follow call order even with many
 * appends pending; every write batch persists the assigned meta and producer
 * state as of its last entry, atomically with its records. The *durable*
 * view (`highWatermark`, `logStartOffset`, `sizeBytes`) moves only when
 * batches complete, strictly in offset order, and is what readers see.
 */
import { FailedPreconditionError, InvalidArgumentError } from '@braid/core';
import type { BraidError, Logger } from '@braid/core';
import type { Database, WriteOp } from './database.js';
import { maxProducerIdBytes } from './defaults.js';
import type { GroupCommit } from './group-commit.js';
import { decodeLogKey, logKeyEncoder, partitionMetaKey, producerKey } from './keys.js';
import { LOG_VALUE_HEADER_BYTES, decodeLogValue, encodeLogValueInto, storedRecordBytes } from './log-entry.js';
import type { LogRecord } from './log-entry.js';
import { encodePartitionMeta } from './partition-meta.js';
import type { PartitionMeta } from './partition-meta.js';
import { ProducerState } from './producer-state.js';
import type { TailCache, TailCacheBudget, TailAppend } from './tail-cache.js';
import { assertU53 } from './u64.js';

/**
 * When an append counts as durable: `fsync` = the WAL is fsynced (survives
 * power loss); `write` = written to the OS (survives a process crash).
 */
export type Durability = 'fsync' | 'write';

/** What to append: one batch of records sharing a timestamp. */
export interface AppendRequest {
  /** The records' bytes, opaque to storage; at least one. */
  payloads: readonly Uint8Array[];
  /**
   * Publish timestamp, ms since the epoch. Stored as
   * `max(timestampMs, previous batch's timestamp)` so timestamps never
   * decrease along a partition (see `offsetForTimestamp`).
   */
  timestampMs: number;
  /** Idempotent producer: its id and the sequence number of the first record. */
  producer?: { id: string; baseSequence: number };
}

/** Where an append landed. */
export interface AppendResult {
  /** Offset of the first record; the rest follow without gaps. */
  baseOffset: number;
  /** True when this was a retry of a batch already appended: nothing new was written. */
  duplicate: boolean;
}

/** Bounds of one `read`. */
export interface ReadLimits {
  /** Records at most; >= 1. */
  maxRecords: number;
  /** Payload bytes at most; >= 1. The first record is returned even if larger. */
  maxBytes: number;
}

/** Per-partition retention; 0 = unlimited. */
export interface RetentionPolicy {
  /** Delete records whose timestamp is more than this many ms in the past. */
  maxAgeMs: number;
  /** Delete the oldest records while the partition's `sizeBytes` exceeds this. */
  maxBytes: number;
}

/** What a partition log needs from its store. @internal */
export interface PartitionLogContext {
  readonly db: Database;
  readonly commit: GroupCommit;
  readonly logger: Logger;
  /** The budget of the partitions' tail caches (recent durable records, served to readers from memory). */
  readonly tails: TailCacheBudget;
  /** Throws unless the store takes writes (not closed, not failed). */
  checkWritable(): void;
  /** Throws unless the store is open. */
  checkReadable(): void;
}

/** A partition's state as recovered from the database. @internal */
export interface PartitionState {
  meta: PartitionMeta;
  highWatermark: number;
  /** Timestamp of the last record (0 when empty): the floor for the next batch. */
  lastTimestampMs: number;
  producers: Map<string, ProducerState>;
}

interface PendingAppend {
  endOffset: number;
  /** The append's values, for the tail cache. */
  values: TailAppend;
  bytes: number;
  durable: boolean;
  resolve: () => void;
}

interface OffsetWaiter {
  offset: number;
  resolve: () => void;
  reject: (error: BraidError) => void;
}

function assertPositive(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`, { metadata: { [name]: String(value) } });
  }
}

/** Largest read-ahead of a read's iterator; reads are bounded by maxBytes anyway. */
const MAX_READ_AHEAD = 1024 * 1024;
const MIN_READ_AHEAD = 16 * 1024;

/** One partition's log. Get it from `LogStore.partition()`. */
export class PartitionLog {
  /** Topic id (assigned by the coordinator). */
  readonly topicId: number;
  /** Partition number. */
  readonly partition: number;

  // Durable view: what readers see.
  private hw: number;
  private logStart: number;
  private size: number;
  // Assigned view: includes appends not yet durable.
  private nextOffset: number;
  private assignedLogStart: number;
  private assignedSize: number;
  private lastTimestampMs: number;
  private policy: RetentionPolicy;
  private readonly producers: Map<string, ProducerState>;

  private readonly pending: PendingAppend[] = [];
  private waiters: OffsetWaiter[] = [];
  private outstanding = 0;
  private settledWaiters: (() => void)[] = [];
  private dropped = false;
  private readonly logger: Logger;
  private readonly keyOf: (offset: number) => Buffer;
  private readonly metaKey: Buffer;
  private readonly tail: TailCache;

  /** @internal Created by `LogStore`. */
  constructor(
    private readonly context: PartitionLogContext,
    topicId: number,
    partition: number,
    state: PartitionState,
  ) {
    this.topicId = topicId;
    this.partition = partition;
    this.keyOf = logKeyEncoder(topicId, partition);
    this.metaKey = partitionMetaKey(topicId, partition);
    this.logger = context.logger.child({ topicId, partition });
    this.hw = state.highWatermark;
    this.nextOffset = state.highWatermark;
    this.logStart = state.meta.logStartOffset;
    this.assignedLogStart = state.meta.logStartOffset;
    this.size = state.meta.sizeBytes;
    this.assignedSize = state.meta.sizeBytes;
    this.lastTimestampMs = state.lastTimestampMs;
    this.policy = { maxAgeMs: state.meta.maxAgeMs, maxBytes: state.meta.maxBytes };
    this.producers = state.producers;
    this.tail = context.tails.cache(state.highWatermark);
  }

  /** The next offset to become visible: every offset below it is durable and readable. */
  get highWatermark(): number {
    return this.hw;
  }

  /** The first offset still in the log (earlier ones were deleted by retention). */
  get logStartOffset(): number {
    return this.logStart;
  }

  /** Stored bytes (key + value) of the durable records in [logStartOffset, highWatermark). */
  get sizeBytes(): number {
    return this.size;
  }

  /** The retention policy in force. */
  get retention(): RetentionPolicy {
    return { ...this.policy };
  }

  /**
   * Appends a batch. Offsets are assigned in call order; the promise
   * resolves once the batch is durable as `durability` asks and the high
   * watermark has passed it (so results arrive in offset order).
   *
   * With `producer`, the batch is checked against that producer's last
   * sequence, counting batches still pending: the next sequence (or any
   * sequence for a producer never seen) is appended; a retry of one of its
   * last five batches resolves `{ baseOffset: original, duplicate: true }`
   * once the original is durable, without appending; anything else throws
   * `InvalidArgumentError` with metadata `reason: OUT_OF_ORDER_SEQUENCE`.
   *
   * Rejects with `InvalidArgumentError` for bad input, `ShuttingDownError`
   * after `close()`, `FailedPreconditionError` after the topic was dropped,
   * and `UnavailableError` once a RocksDB write failed.
   */
  async append(request: AppendRequest, durability: Durability): Promise<AppendResult> {
    const { payloads, timestampMs, producer } = request;
    // Checked at run time too: the broker maps these from the wire.
    const mode: string = durability;
    if (mode !== 'fsync' && mode !== 'write') throw new InvalidArgumentError(`durability must be 'fsync' or 'write', got ${mode}`);
    const list: unknown = payloads;
    if (!Array.isArray(list) || payloads.length === 0) throw new InvalidArgumentError('an append needs at least one payload');
    for (const payload of payloads) {
      if (!(payload instanceof Uint8Array)) throw new InvalidArgumentError('every payload must be a Buffer or Uint8Array');
    }
    assertU53('timestampMs', timestampMs);
    this.checkWritable();
    const count = payloads.length;

    let producerState: ProducerState | undefined;
    if (producer) {
      const { id, baseSequence } = producer;
      const idBytes = typeof id === 'string' ? Buffer.byteLength(id, 'utf8') : 0;
      if (idBytes === 0 || idBytes > maxProducerIdBytes) {
        throw new InvalidArgumentError(`producer id must be 1-${maxProducerIdBytes} UTF-8 bytes, got ${idBytes}`);
      }
      assertU53('baseSequence', baseSequence);
      assertU53('baseSequence + count', baseSequence + count);
      producerState = this.producers.get(id);
      const duplicate = producerState?.check(baseSequence, count, { topicId: this.topicId, partition: this.partition, producerId: id });
      if (duplicate) {
        // Answer a retry only once the original is durable: never acknowledge what is not written.
        await this.waitForHighWatermark(duplicate.baseOffset + duplicate.count);
        return { baseOffset: duplicate.baseOffset, duplicate: true };
      }
    }

    // Nothing below may throw before the entry is submitted: the assigned state moves here.
    const baseOffset = this.nextOffset;
    const timestamp = Math.max(timestampMs, this.lastTimestampMs);
    // The values back to back in one Buffer: RocksDB gets a view of each, the tail cache copies the whole.
    const ops: WriteOp[] = [];
    const ends = new Uint32Array(count);
    let dataBytes = 0;
    for (const payload of payloads) dataBytes += LOG_VALUE_HEADER_BYTES + payload.length;
    const data = Buffer.allocUnsafe(dataBytes);
    let bytes = 0;
    let at = 0;
    payloads.forEach((payload, i) => {
      const end = encodeLogValueInto(data, at, timestamp, payload);
      ops.push({ type: 'put', key: this.keyOf(baseOffset + i), value: data.subarray(at, end) });
      ends[i] = end;
      at = end;
      bytes += storedRecordBytes(payload.length);
    });
    this.nextOffset += count;
    this.lastTimestampMs = timestamp;
    this.assignedSize += bytes;
    if (producer) {
      const state = producerState ?? new ProducerState();
      state.record({ baseSequence: producer.baseSequence, count, baseOffset });
      this.producers.set(producer.id, state);
      ops.push({ type: 'put', key: producerKey(this.topicId, this.partition, producer.id), value: state.encode() });
    }
    ops.push(this.metaOp());

    return new Promise<AppendResult>((resolve, reject) => {
      const entry: PendingAppend = {
        endOffset: baseOffset + count,
        values: { baseOffset, timestampMs: timestamp, data, ends },
        bytes,
        durable: false,
        resolve: () => { resolve({ baseOffset, duplicate: false }); },
      };
      this.pending.push(entry);
      this.submit(ops, bytes, durability === 'fsync', () => {
        entry.durable = true;
        this.advance();
      }, reject);
    });
  }

  /**
   * Reads durable records from `fromOffset` on: from the log start if
   * `fromOffset` is below it, nothing at or after the high watermark. Stops
   * at `maxRecords` or before `maxBytes` of payload would be exceeded, but
   * always returns at least one record when one is available.
   *
   * Recent records come from the tail cache (copied out of it), without a
   * RocksDB read.
   */
  async read(fromOffset: number, limits: ReadLimits): Promise<LogRecord[]> {
    assertU53('fromOffset', fromOffset);
    assertPositive('maxRecords', limits.maxRecords);
    assertPositive('maxBytes', limits.maxBytes);
    this.checkReadable();
    const end = this.hw;
    const start = Math.max(fromOffset, this.logStart);
    if (start >= end) return [];
    const maxRecords = Math.min(limits.maxRecords, end - start);
    const cached = this.tail.read(start, maxRecords, limits.maxBytes);
    if (cached) return cached;
    this.tail.missed();
    const range = { gte: this.keyOf(start), lt: this.keyOf(end) };
    const highWaterMark = Math.min(MAX_READ_AHEAD, Math.max(MIN_READ_AHEAD, limits.maxBytes));
    const records: LogRecord[] = [];
    let bytes = 0;
    // The binding reads `limit` as an int32.
    await this.context.db.scan(range, { highWaterMark, limit: Math.min(maxRecords, 2 ** 31 - 1) }, (key, value) => {
      const { timestampMs, payload } = decodeLogValue(value);
      if (records.length > 0 && bytes + payload.length > limits.maxBytes) return false;
      records.push({ offset: decodeLogKey(key).offset, timestampMs, payload });
      bytes += payload.length;
      return bytes < limits.maxBytes;
    });
    return records;
  }

  /**
   * Reads the records at `offsets` (any order) with one point lookup each,
   * in one call to the database: for records scattered over a partition
   * (those of one key, timers that came due), where a range read would step
   * over everything between them. Returns what is readable (retained, below
   * the high watermark), in the order asked. Records still in the tail
   * cache are not looked up.
   */
  async readOffsets(offsets: readonly number[]): Promise<LogRecord[]> {
    for (const offset of offsets) assertU53('offset', offset);
    this.checkReadable();
    const end = this.hw;
    const wanted = offsets.filter((offset) => offset >= this.logStart && offset < end);
    const found = wanted.map((offset) => this.tail.get(offset));
    const missing = wanted.filter((_, i) => found[i] === undefined);
    this.tail.hit(wanted.length - missing.length);
    if (missing.length > 0) {
      this.tail.missed();
      const values = await this.context.db.getMany(missing.map((offset) => this.keyOf(offset)));
      let next = 0;
      found.forEach((record, i) => {
        if (record !== undefined) return;
        const value = values[next++];
        // Deleted by retention while the lookup ran.
        if (value === undefined) return;
        const { timestampMs, payload } = decodeLogValue(value);
        found[i] = { offset: wanted[i] as number, timestampMs, payload };
      });
    }
    return found.filter((record) => record !== undefined);
  }

  /**
   * The first offset whose timestamp is >= `timestampMs`, or the high
   * watermark if there is none. A binary search over point reads, exact
   * because stored timestamps never decrease along a partition.
   */
  async offsetForTimestamp(timestampMs: number): Promise<number> {
    assertU53('timestampMs', timestampMs);
    this.checkReadable();
    let low = this.logStart;
    let high = this.hw;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const value = await this.context.db.get(this.keyOf(middle));
      // A record gone missing was deleted by retention meanwhile: it was older.
      if (value === undefined || decodeLogValue(value).timestampMs < timestampMs) low = middle + 1;
      else high = middle;
    }
    return Math.max(low, this.logStart);
  }

  /**
   * Sets the retention policy (0 = unlimited) and persists it; it applies
   * from the next retention pass.
   */
  async setRetention(policy: RetentionPolicy): Promise<void> {
    assertU53('maxAgeMs', policy.maxAgeMs);
    assertU53('maxBytes', policy.maxBytes);
    this.checkWritable();
    this.policy = { maxAgeMs: policy.maxAgeMs, maxBytes: policy.maxBytes };
    await new Promise<void>((resolve, reject) => {
      this.submit([this.metaOp()], 0, true, resolve, reject);
    });
  }

  /**
   * Deletes the records below `newLogStart` (`deletes` holds their
   * deletions, `deletedBytes` their stored size) and moves the log start,
   * in one synced batch with the meta. Called by retention only, never
   * concurrently with itself.
   * @internal
   */
  async trimHead(newLogStart: number, deletedBytes: number, deletes: WriteOp[]): Promise<void> {
    if (newLogStart > this.hw || newLogStart <= this.assignedLogStart) {
      throw new RangeError(`cannot move log start from ${this.assignedLogStart} to ${newLogStart} (high watermark ${this.hw})`);
    }
    this.assignedLogStart = newLogStart;
    this.assignedSize -= deletedBytes;
    const ops = [...deletes, this.metaOp()];
    await new Promise<void>((resolve, reject) => {
      this.submit(ops, 0, true, () => {
        this.logStart = newLogStart;
        this.size -= deletedBytes;
        this.tail.trimBelow(newLogStart);
        resolve();
      }, reject);
    });
  }

  /**
   * Refuses further appends (the topic is being dropped) and resolves once
   * every write already submitted is durable or failed.
   * @internal
   */
  drop(): Promise<void> {
    this.dropped = true;
    this.tail.clear(this.hw);
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** Whether `drop()` was called. @internal */
  get isDropped(): boolean {
    return this.dropped;
  }

  private checkWritable(): void {
    this.checkDropped();
    this.context.checkWritable();
  }

  private checkReadable(): void {
    this.checkDropped();
    this.context.checkReadable();
  }

  private checkDropped(): void {
    if (this.dropped) {
      throw new FailedPreconditionError(`topic ${this.topicId} was dropped (partition ${this.partition})`, {
        metadata: { topicId: String(this.topicId), partition: String(this.partition) },
      });
    }
  }

  private metaOp(): WriteOp {
    const meta: PartitionMeta = {
      logStartOffset: this.assignedLogStart,
      sizeBytes: this.assignedSize,
      maxAgeMs: this.policy.maxAgeMs,
      maxBytes: this.policy.maxBytes,
    };
    return { type: 'put', key: this.metaKey, value: encodePartitionMeta(meta) };
  }

  private submit(ops: WriteOp[], bytes: number, sync: boolean, onDurable: () => void, onFailed: (error: BraidError) => void): void {
    this.outstanding++;
    const settle = (): void => {
      if (--this.outstanding > 0) return;
      const waiters = this.settledWaiters;
      this.settledWaiters = [];
      for (const resolve of waiters) resolve();
    };
    try {
      this.context.commit.submit({
        lane: this,
        ops,
        bytes,
        sync,
        onDurable: () => {
          onDurable();
          settle();
        },
        onFailed: (error) => {
          this.logger.error({ err: error }, 'partition write failed');
          onFailed(error);
          // Nothing of this partition will become durable any more: release everyone waiting for it.
          const waiters = this.waiters;
          this.waiters = [];
          for (const waiter of waiters) waiter.reject(error);
          settle();
        },
      });
    } catch (error) {
      settle();
      throw error;
    }
  }

  /** Moves the high watermark over the durable prefix of pending appends, in offset order. */
  private advance(): void {
    let head = this.pending[0];
    while (head?.durable) {
      this.pending.shift();
      this.hw = head.endOffset;
      this.size += head.bytes;
      if (!this.dropped) this.tail.append(head.values);
      head.resolve();
      head = this.pending[0];
    }
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.offset <= this.hw);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.offset > this.hw);
    for (const waiter of ready) waiter.resolve();
  }

  private waitForHighWatermark(offset: number): Promise<void> {
    if (offset <= this.hw) return Promise.resolve();
    this.checkWritable();
    return new Promise((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
  }
}
