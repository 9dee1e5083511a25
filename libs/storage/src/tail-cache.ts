/**
 * The tail cache: the most recently appended durable records of each
 * partition, kept in memory so that readers who keep up with the producers
 * (every subscription of a caught-up consumer, all of them in a fanout) get
 * them without a RocksDB read. Kafka leans on the page cache for the same
 * effect, Pulsar's managed ledger keeps an explicit entry cache; both serve
 * tailing reads from memory and fall back to storage for lagging ones.
 *
 * Memory is a fixed set of slabs (1 MiB by default), like the page cache's
 * pages: a partition copies each append's stored values into its current
 * slab, and a slab is reused once every append in it has been evicted. So
 * the cache's memory is what the budget says, whatever the rate: were each
 * append kept as its own Buffer, the evicted ones would stay allocated
 * until V8 ran a full collection, which the broker's heap settings make
 * rare (measured: ~160 MiB of evicted appends waiting with a 32 MiB
 * budget). Because a slab is reused, nothing outside the cache may point
 * into it: reads copy the records out.
 *
 * A partition's cache holds a contiguous run of offsets ending at its high
 * watermark. One {@link TailCacheBudget} per store owns the slabs: a
 * partition that needs a slab when all are taken frees one of the
 * partition appended to least recently (its oldest); one partition holds at
 * most `maxPartitionBytes` of slabs.
 */
import { dropConsumed } from '@braid/core';
import { LOG_VALUE_HEADER_BYTES } from './log-entry.js';
import type { LogRecord } from './log-entry.js';

/** One append, as the partition log hands it over. */
export interface TailAppend {
  /** Offset of the first record. */
  readonly baseOffset: number;
  /** The publish timestamp all its records share. */
  readonly timestampMs: number;
  /** The stored values (`[timestamp u64][payload]`) back to back. */
  readonly data: Buffer;
  /** `ends[i]`: where record i's value ends in `data` (it starts where record i - 1's ends). */
  readonly ends: Uint32Array;
}

/** Limits of a store's tail caches. */
export interface TailCacheLimits {
  /** Slab bytes of all partitions together; less than one slab turns caching off. */
  maxBytes: number;
  /** Slab bytes of one partition at most (at least one slab). */
  maxPartitionBytes: number;
  /** Bytes of one slab; a larger append is not cached. */
  slabBytes: number;
}

/** What the caches hold and serve. */
export interface TailCacheStats {
  /** Bytes of the slabs allocated (in use or free for reuse): the cache's memory. */
  bytes: number;
  /** Records held now. */
  records: number;
  /** Records returned from memory. */
  hitRecords: number;
  /** Reads (range or point) that had to go to RocksDB for at least one record. */
  missedReads: number;
}

class Slab {
  /** Bytes written from the start. */
  used = 0;
  /** Appends of the cache in this slab. */
  appends = 0;
  constructor(readonly buffer: Buffer) {}
}

/** An append in a slab: its values are `slab.buffer[start + (ends[i - 1] ?? 0), start + ends[i])`. */
interface Chunk {
  readonly baseOffset: number;
  readonly timestampMs: number;
  readonly slab: Slab;
  readonly start: number;
  readonly ends: Uint32Array;
}

/** The store-wide slabs of the tail caches; see the file comment. */
export class TailCacheBudget {
  readonly slabBytes: number;
  /** Slabs allocated at most. */
  readonly maxSlabs: number;
  /** Slabs one partition holds at most. */
  readonly maxPartitionSlabs: number;
  private allocated = 0;
  private readonly free: Slab[] = [];
  private records = 0;
  /** Caches holding slabs, least recently appended first. */
  private readonly recency = new Set<TailCache>();
  private readonly counters = { hitRecords: 0, missedReads: 0 };

  constructor(limits: TailCacheLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || (value as number) < 0) throw new RangeError(`tail cache ${name} must be an integer >= 0, got ${value}`);
    }
    this.slabBytes = Math.max(1, limits.slabBytes);
    this.maxSlabs = Math.floor(limits.maxBytes / this.slabBytes);
    this.maxPartitionSlabs = Math.max(1, Math.floor(limits.maxPartitionBytes / this.slabBytes));
  }

  /** A new, empty cache for a partition whose high watermark is `end`. */
  cache(end: number): TailCache {
    return new TailCache(this, end);
  }

  stats(): TailCacheStats {
    return { bytes: this.allocated * this.slabBytes, records: this.records, ...this.counters };
  }

  /** @internal */
  hit(records: number): void {
    this.counters.hitRecords += records;
  }

  /** @internal */
  missed(): void {
    this.counters.missedReads++;
  }

  /** @internal Records were added (positive) or dropped (negative). */
  counted(records: number): void {
    this.records += records;
  }

  /**
   * @internal An empty slab for `cache`, which just appended: a free one, a
   * new one within the budget, or one the least recently appended caches
   * give up (`cache` itself last). Undefined with caching off.
   */
  slabFor(cache: TailCache): Slab | undefined {
    // Last in line to give up a slab, and again once it got one (giving up its own may have emptied it).
    this.touch(cache);
    const slab = this.takeSlab();
    if (slab) this.touch(cache);
    return slab;
  }

  private takeSlab(): Slab | undefined {
    for (;;) {
      const reused = this.free.pop();
      if (reused) return reused;
      if (this.allocated < this.maxSlabs) {
        this.allocated++;
        return new Slab(Buffer.allocUnsafeSlow(this.slabBytes));
      }
      const victim = this.oldestHolder();
      if (!victim?.releaseOldestSlab()) return undefined;
    }
  }

  private touch(cache: TailCache): void {
    this.recency.delete(cache);
    this.recency.add(cache);
  }

  /** @internal A cache gave up a slab (it holds no record any more). */
  released(slab: Slab): void {
    slab.used = 0;
    slab.appends = 0;
    this.free.push(slab);
  }

  /** @internal A cache holds no slab any more. */
  emptied(cache: TailCache): void {
    this.recency.delete(cache);
  }

  private oldestHolder(): TailCache | undefined {
    for (const cache of this.recency) if (cache.slabCount > 0) return cache;
    return undefined;
  }
}

/**
 * One partition's tail cache: the records of offsets [`start`, `end`),
 * where `end` follows the partition's high watermark. Get it from
 * {@link TailCacheBudget.cache}.
 */
export class TailCache {
  /** Appends covering [start, end), oldest first, from `head` on. */
  private chunks: Chunk[] = [];
  private head = 0;
  /** Slabs holding them, oldest first; the last one takes new appends. */
  private slabs: Slab[] = [];
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

  /** @internal Slabs held. */
  get slabCount(): number {
    return this.slabs.length;
  }

  /**
   * Adds an append that just became durable, copying its values; it must
   * continue the cache (`baseOffset === end`), or the cache starts over
   * from it. An append larger than a slab is not cached (nor what came
   * before it).
   */
  append(append: TailAppend): void {
    const count = append.ends.length;
    if (count === 0) return;
    if (append.baseOffset !== this.endOffset) this.clear(append.baseOffset);
    this.endOffset = append.baseOffset + count;
    const size = append.data.length;
    let slab = this.slabs[this.slabs.length - 1];
    if (!slab || slab.buffer.length - slab.used < size) {
      slab = size <= this.budget.slabBytes ? this.budget.slabFor(this) : undefined;
      if (!slab) {
        this.clear(this.endOffset);
        return;
      }
      this.slabs.push(slab);
      if (this.slabs.length > this.budget.maxPartitionSlabs) this.releaseOldestSlab();
    }
    append.data.copy(slab.buffer, slab.used);
    this.chunks.push({ baseOffset: append.baseOffset, timestampMs: append.timestampMs, slab, start: slab.used, ends: append.ends });
    slab.used += size;
    slab.appends++;
    this.budget.counted(count);
  }

  /**
   * Up to `maxRecords` cached records from `from` on (copies), stopping
   * before `maxBytes` of payload would be exceeded (but with at least one),
   * or undefined when `from` is not cached (below `start`, or at `end`).
   */
  read(from: number, maxRecords: number, maxBytes: number): LogRecord[] | undefined {
    let index = this.chunkOf(from);
    if (index === undefined) return undefined;
    const records: LogRecord[] = [];
    let bytes = 0;
    let offset = from;
    for (; index < this.chunks.length; index++) {
      const chunk = this.chunks[index] as Chunk;
      for (let i = offset - chunk.baseOffset; i < chunk.ends.length; i++) {
        const size = payloadSize(chunk, i);
        if (records.length > 0 && bytes + size > maxBytes) return this.served(records);
        records.push({ offset, timestampMs: chunk.timestampMs, payload: copyPayload(chunk, i) });
        offset++;
        bytes += size;
        if (bytes >= maxBytes || records.length >= maxRecords) return this.served(records);
      }
    }
    return this.served(records);
  }

  /** The cached record at `offset` (a copy), if any. */
  get(offset: number): LogRecord | undefined {
    const index = this.chunkOf(offset);
    if (index === undefined) return undefined;
    const chunk = this.chunks[index] as Chunk;
    return { offset, timestampMs: chunk.timestampMs, payload: copyPayload(chunk, offset - chunk.baseOffset) };
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
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i] as Chunk;
      if (chunk.baseOffset + chunk.ends.length > offset) break;
      count++;
    }
    this.dropOldest(count);
    // Slabs left with no append go back, except the one taking new appends.
    while (this.slabs.length > 1 && (this.slabs[0] as Slab).appends === 0) this.budget.released(this.slabs.shift() as Slab);
    if (this.head === this.chunks.length) this.clear(this.endOffset);
  }

  /** Empties the cache and gives its slabs back; it continues at `end`. */
  clear(end: number): void {
    this.dropOldest(this.chunks.length - this.head);
    for (const slab of this.slabs) this.budget.released(slab);
    if (this.slabs.length > 0) this.budget.emptied(this);
    this.slabs = [];
    this.endOffset = end;
  }

  /**
   * @internal Drops the appends in the oldest slab and gives it back;
   * false when there is none.
   */
  releaseOldestSlab(): boolean {
    const oldest = this.slabs[0];
    if (!oldest) return false;
    let count = 0;
    while (this.head + count < this.chunks.length && (this.chunks[this.head + count] as Chunk).slab === oldest) count++;
    this.dropOldest(count);
    this.slabs.shift();
    this.budget.released(oldest);
    if (this.slabs.length === 0) this.budget.emptied(this);
    return true;
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
      if ((this.chunks[middle] as Chunk).baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  private dropOldest(count: number): void {
    if (count <= 0) return;
    let records = 0;
    for (let i = this.head; i < this.head + count; i++) {
      const chunk = this.chunks[i] as Chunk;
      records += chunk.ends.length;
      chunk.slab.appends--;
    }
    this.head += count;
    const kept = dropConsumed(this.chunks, this.head, 256);
    if (kept) {
      this.chunks = kept;
      this.head = 0;
    }
    this.budget.counted(-records);
  }
}

function payloadSize(chunk: Chunk, index: number): number {
  const start = index === 0 ? 0 : (chunk.ends[index - 1] as number);
  return (chunk.ends[index] as number) - start - LOG_VALUE_HEADER_BYTES;
}

/** Record `index` of a chunk's payload, copied out of the slab (which is reused later): one allocation, no view. */
function copyPayload(chunk: Chunk, index: number): Buffer {
  const start = chunk.start + (index === 0 ? 0 : (chunk.ends[index - 1] as number)) + LOG_VALUE_HEADER_BYTES;
  const end = chunk.start + (chunk.ends[index] as number);
  const payload = Buffer.allocUnsafe(end - start);
  chunk.slab.buffer.copy(payload, 0, start, end);
  return payload;
}
