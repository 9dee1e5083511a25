/**
 * The tail cache: the most recently appended durable records of each
 * partition, kept in memory so that readers who keep up with the producers
 * (every subscription of a caught-up consumer, all of them in a fanout) get
 * them without a RocksDB read. Kafka leans on the page cache for the same
 * effect, Pulsar's managed ledger keeps an explicit entry cache; both serve
 * tailing reads from memory and fall back to storage for lagging ones.
 *
 * A partition's cache holds a contiguous run of offsets ending at its high
 * watermark, as whole appends ({@link TailChunk}): each one Buffer with its
 * records' stored values back to back, as the append wrote them to
 * RocksDB. Nothing is kept per record on the V8 heap, so the cache neither
 * slows the young-generation collections (which copy every survivor) nor
 * grows the old generation; the `LogRecord`s a read returns are views made
 * for it. One {@link TailCacheBudget} per store bounds the bytes of all
 * partitions' caches: past the budget, the oldest appends of the partition
 * appended to least recently go first; a single partition holds at most
 * `maxPartitionBytes`.
 */
import { LOG_VALUE_HEADER_BYTES } from './log-entry.js';
import type { LogRecord } from './log-entry.js';

/** Bytes a cached append is counted as besides its data (its objects). */
const chunkOverheadBytes = 160;

/** One append as the cache holds it. */
export interface TailChunk {
  /** Offset of the first record. */
  readonly baseOffset: number;
  /** The publish timestamp all its records share. */
  readonly timestampMs: number;
  /** The stored values (`[timestamp u64][payload]`) back to back. */
  readonly data: Buffer;
  /** `ends[i]`: where record i's value ends in `data` (it starts where record i - 1's ends). */
  readonly ends: Uint32Array;
}

const chunkCost = (chunk: TailChunk): number => chunk.data.length + chunk.ends.byteLength + chunkOverheadBytes;

/** Limits of a store's tail caches. */
export interface TailCacheLimits {
  /** Bytes of all partitions' caches together (values + ~200 B per append); 0 turns caching off. */
  maxBytes: number;
  /** Bytes of one partition's cache at most. */
  maxPartitionBytes: number;
}

/** What the caches hold and serve. */
export interface TailCacheStats {
  /** Bytes held now, over all partitions. */
  bytes: number;
  /** Records held now. */
  records: number;
  /** Records returned from memory. */
  hitRecords: number;
  /** Reads (range or point) that had to go to RocksDB for at least one record. */
  missedReads: number;
}

/** The store-wide byte budget of the tail caches; see the file comment. */
export class TailCacheBudget {
  private bytes = 0;
  private records = 0;
  /** Caches holding records, least recently appended first. */
  private readonly recency = new Set<TailCache>();
  private readonly counters = { hitRecords: 0, missedReads: 0 };

  constructor(readonly limits: TailCacheLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`tail cache ${name} must be an integer >= 0, got ${value}`);
    }
  }

  /** A new, empty cache for a partition whose high watermark is `end`. */
  cache(end: number): TailCache {
    return new TailCache(this, end);
  }

  stats(): TailCacheStats {
    return { bytes: this.bytes, records: this.records, ...this.counters };
  }

  /** @internal */
  hit(records: number): void {
    this.counters.hitRecords += records;
  }

  /** @internal */
  missed(): void {
    this.counters.missedReads++;
  }

  /** @internal A cache grew: it becomes the most recently appended, and the budget is enforced. */
  grew(cache: TailCache, bytes: number, records: number): void {
    this.bytes += bytes;
    this.records += records;
    this.recency.delete(cache);
    this.recency.add(cache);
    for (const oldest of this.recency) {
      if (this.bytes <= this.limits.maxBytes) break;
      oldest.evict(this.bytes - this.limits.maxBytes);
    }
  }

  /** @internal A cache let go of records. */
  shrank(cache: TailCache, bytes: number, records: number, empty: boolean): void {
    this.bytes -= bytes;
    this.records -= records;
    if (empty) this.recency.delete(cache);
  }
}

/**
 * One partition's tail cache: the records of offsets [`start`, `end`),
 * where `end` follows the partition's high watermark. Get it from
 * {@link TailCacheBudget.cache}.
 */
export class TailCache {
  /** Appends covering [start, end), oldest first, from `head` on. */
  private chunks: TailChunk[] = [];
  private head = 0;
  private bytes = 0;
  private records = 0;
  private endOffset: number;

  /** @internal */
  constructor(
    private readonly budget: TailCacheBudget,
    end: number,
  ) {
    this.endOffset = end;
  }

  /** The first cached offset (`end` when empty). */
  get start(): number {
    return this.chunks[this.head]?.baseOffset ?? this.endOffset;
  }

  /** One past the last cached offset: the high watermark it was last told of. */
  get end(): number {
    return this.endOffset;
  }

  /**
   * Adds an append that just became durable; it must continue the cache
   * (`baseOffset === end`), or the cache starts over from it.
   */
  append(chunk: TailChunk): void {
    const count = chunk.ends.length;
    if (count === 0) return;
    if (chunk.baseOffset !== this.endOffset) this.clear(chunk.baseOffset);
    this.endOffset = chunk.baseOffset + count;
    const { maxBytes, maxPartitionBytes } = this.budget.limits;
    if (maxBytes === 0 || maxPartitionBytes === 0) return;
    const cost = chunkCost(chunk);
    this.chunks.push(chunk);
    this.bytes += cost;
    this.records += count;
    this.budget.grew(this, cost, count);
    if (this.bytes > maxPartitionBytes) this.evict(this.bytes - maxPartitionBytes);
  }

  /**
   * Up to `maxRecords` cached records from `from` on, stopping before
   * `maxBytes` of payload would be exceeded (but with at least one), or
   * undefined when `from` is not cached (below `start`, or at `end`).
   */
  read(from: number, maxRecords: number, maxBytes: number): LogRecord[] | undefined {
    let index = this.chunkOf(from);
    if (index === undefined) return undefined;
    const records: LogRecord[] = [];
    let bytes = 0;
    let offset = from;
    for (; index < this.chunks.length; index++) {
      const chunk = this.chunks[index] as TailChunk;
      for (let i = offset - chunk.baseOffset; i < chunk.ends.length; i++) {
        const payload = payloadAt(chunk, i);
        if (records.length > 0 && bytes + payload.length > maxBytes) return this.served(records);
        records.push({ offset, timestampMs: chunk.timestampMs, payload });
        offset++;
        bytes += payload.length;
        if (bytes >= maxBytes || records.length >= maxRecords) return this.served(records);
      }
    }
    return this.served(records);
  }

  /** The cached record at `offset`, if any. */
  get(offset: number): LogRecord | undefined {
    const index = this.chunkOf(offset);
    if (index === undefined) return undefined;
    const chunk = this.chunks[index] as TailChunk;
    return { offset, timestampMs: chunk.timestampMs, payload: payloadAt(chunk, offset - chunk.baseOffset) };
  }

  /** Counts a read that went to storage. */
  missed(): void {
    this.budget.missed();
  }

  /** Counts records returned from memory by point reads. */
  hit(records: number): void {
    if (records > 0) this.budget.hit(records);
  }

  /** Lets go of the appends wholly below `offset` (retention moved the log start there). */
  trimBelow(offset: number): void {
    let count = 0;
    let bytes = 0;
    let records = 0;
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i] as TailChunk;
      if (chunk.baseOffset + chunk.ends.length > offset) break;
      count++;
      bytes += chunkCost(chunk);
      records += chunk.ends.length;
    }
    this.dropOldest(count, bytes, records);
  }

  /** Empties the cache; it continues at `end`. */
  clear(end: number): void {
    const { bytes, records } = this;
    this.chunks = [];
    this.head = 0;
    this.bytes = 0;
    this.records = 0;
    this.endOffset = end;
    if (records > 0) this.budget.shrank(this, bytes, records, true);
  }

  /** @internal Drops the oldest appends worth at least `bytes` (or all of them). */
  evict(bytes: number): void {
    let count = 0;
    let freed = 0;
    let records = 0;
    for (let i = this.head; i < this.chunks.length && freed < bytes; i++) {
      const chunk = this.chunks[i] as TailChunk;
      count++;
      freed += chunkCost(chunk);
      records += chunk.ends.length;
    }
    this.dropOldest(count, freed, records);
  }

  private served(records: LogRecord[]): LogRecord[] {
    this.budget.hit(records.length);
    return records;
  }

  /** Index of the chunk holding `offset`, if cached (binary search: appends are in offset order). */
  private chunkOf(offset: number): number | undefined {
    if (offset < this.start || offset >= this.endOffset) return undefined;
    let low = this.head;
    let high = this.chunks.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.chunks[middle] as TailChunk).baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  private dropOldest(count: number, bytes: number, records: number): void {
    if (count <= 0) return;
    this.head += count;
    this.bytes -= bytes;
    this.records -= records;
    // Compact once the dropped slots outweigh the kept ones.
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 256 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.budget.shrank(this, bytes, records, this.chunks.length === this.head);
  }
}

/** Record `index` of a chunk's payload: a view into its data, past the value's timestamp. */
function payloadAt(chunk: TailChunk, index: number): Buffer {
  const start = index === 0 ? 0 : (chunk.ends[index - 1] as number);
  return chunk.data.subarray(start + LOG_VALUE_HEADER_BYTES, chunk.ends[index]);
}
