/**
 * The tail cache: the most recently appended durable records of each
 * partition, kept in memory so that readers who keep up with the producers
 * (every subscription of a caught-up consumer, all of them in a fanout) get
 * them without a RocksDB read. Kafka leans on the page cache for the same
 * effect, Pulsar's managed ledger keeps an explicit entry cache; both serve
 * tailing reads from memory and fall back to storage for lagging ones.
 *
 * Each partition's cache holds a contiguous run of offsets ending at its
 * high watermark, as the `LogRecord`s readers get (built once at append, so
 * a read costs no allocation per record). One {@link TailCacheBudget} per
 * store bounds the bytes of all of them: past the budget, the oldest records
 * of the partition appended to least recently go first; a single partition
 * holds at most `maxPartitionBytes`.
 */
import type { LogRecord } from './log-entry.js';

/** Bytes a cached record is counted as besides its payload (the record object, the array slot). */
const recordOverheadBytes = 64;

const recordCost = (record: LogRecord): number => record.payload.length + recordOverheadBytes;

/** Limits of a store's tail caches. */
export interface TailCacheLimits {
  /** Bytes of all partitions' caches together (payloads + ~64 B per record); 0 turns caching off. */
  maxBytes: number;
  /** Bytes of one partition's cache at most. */
  maxPartitionBytes: number;
}

/** Reads served from the caches and from storage. */
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
  /** Records of offsets [start, end) live at [head, records.length). */
  private records: LogRecord[] = [];
  private head = 0;
  private bytes = 0;
  private startOffset: number;

  /** @internal */
  constructor(
    private readonly budget: TailCacheBudget,
    private endOffset: number,
  ) {
    this.startOffset = endOffset;
  }

  /** The first cached offset (`end` when empty). */
  get start(): number {
    return this.startOffset;
  }

  /** One past the last cached offset: the high watermark it was last told of. */
  get end(): number {
    return this.endOffset;
  }

  /**
   * Adds records that just became durable; they must continue the cache
   * (`records[0].offset === end`), or the cache starts over from them.
   */
  append(records: readonly LogRecord[]): void {
    const first = records[0];
    if (first === undefined) return;
    const last = records[records.length - 1] as LogRecord;
    if (first.offset !== this.endOffset) this.clear(first.offset);
    this.endOffset = last.offset + 1;
    const { maxBytes, maxPartitionBytes } = this.budget.limits;
    if (maxBytes === 0 || maxPartitionBytes === 0) {
      this.startOffset = this.endOffset;
      return;
    }
    let bytes = 0;
    for (const record of records) {
      this.records.push(record);
      bytes += recordCost(record);
    }
    this.bytes += bytes;
    this.budget.grew(this, bytes, records.length);
    if (this.bytes > maxPartitionBytes) this.evict(this.bytes - maxPartitionBytes);
  }

  /**
   * Up to `maxRecords` cached records from `from` on, stopping before
   * `maxBytes` of payload would be exceeded (but with at least one), or
   * undefined when `from` is not cached (below `start`, or at `end`).
   */
  read(from: number, maxRecords: number, maxBytes: number): LogRecord[] | undefined {
    if (from < this.startOffset || from >= this.endOffset) return undefined;
    const at = this.head + (from - this.startOffset);
    const stop = Math.min(this.records.length, at + maxRecords);
    let bytes = 0;
    let index = at;
    for (; index < stop; index++) {
      const size = (this.records[index] as LogRecord).payload.length;
      if (index > at && bytes + size > maxBytes) break;
      bytes += size;
      if (bytes >= maxBytes) {
        index++;
        break;
      }
    }
    const result = this.records.slice(at, index);
    this.budget.hit(result.length);
    return result;
  }

  /** The cached record at `offset`, if any. */
  get(offset: number): LogRecord | undefined {
    if (offset < this.startOffset || offset >= this.endOffset) return undefined;
    return this.records[this.head + (offset - this.startOffset)];
  }

  /** Counts a read that went to storage. */
  missed(): void {
    this.budget.missed();
  }

  /** Counts records returned from memory by point reads. */
  hit(records: number): void {
    if (records > 0) this.budget.hit(records);
  }

  /** Lets go of the records below `offset` (retention moved the log start). */
  trimBelow(offset: number): void {
    if (offset <= this.startOffset) return;
    if (offset >= this.endOffset) {
      this.clear(this.endOffset);
      return;
    }
    const count = offset - this.startOffset;
    let bytes = 0;
    for (let i = this.head; i < this.head + count; i++) bytes += recordCost(this.records[i] as LogRecord);
    this.dropOldest(count, bytes);
  }

  /** Empties the cache; it continues at `end`. */
  clear(end: number): void {
    const count = this.records.length - this.head;
    const bytes = this.bytes;
    this.records = [];
    this.head = 0;
    this.bytes = 0;
    this.startOffset = end;
    this.endOffset = end;
    if (count > 0) this.budget.shrank(this, bytes, count, true);
  }

  /** @internal Drops the oldest records worth at least `bytes` (or all of them). */
  evict(bytes: number): void {
    let count = 0;
    let freed = 0;
    const available = this.records.length - this.head;
    while (count < available && freed < bytes) {
      freed += recordCost(this.records[this.head + count] as LogRecord);
      count++;
    }
    this.dropOldest(count, freed);
  }

  private dropOldest(count: number, bytes: number): void {
    if (count <= 0) return;
    this.head += count;
    this.startOffset += count;
    this.bytes -= bytes;
    // Compact once the dropped slots outweigh the kept ones.
    if (this.head === this.records.length) {
      this.records = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
    this.budget.shrank(this, bytes, count, this.records.length === this.head);
  }
}
