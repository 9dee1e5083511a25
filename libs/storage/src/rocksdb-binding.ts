/**
 * Typed access to the `rocksdb` package (Level's RocksDB binding,
 * abstract-leveldown 7 API), which ships no types. Loaded with `require`
 * because it is a CommonJS native addon; only the parts Braid uses are typed.
 */
import { createRequire } from 'node:module';

export type Callback<T = void> = (error: Error | undefined | null, value?: T) => void;

export interface OpenOptions {
  createIfMissing?: boolean;
  errorIfExists?: boolean;
  compression?: boolean;
  cacheSize?: number;
  writeBufferSize?: number;
  blockSize?: number;
  maxOpenFiles?: number;
  maxFileSize?: number;
}

export interface IteratorOptions {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
  reverse?: boolean;
  limit?: number;
  keys?: boolean;
  values?: boolean;
  keyAsBuffer?: boolean;
  valueAsBuffer?: boolean;
  fillCache?: boolean;
  highWaterMark?: number;
}

export interface RawIterator {
  next(callback: (error: Error | undefined | null, key?: Buffer, value?: Buffer) => void): void;
  seek(target: Buffer): void;
  end(callback: Callback): void;
}

export type BatchOperation = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export interface RocksDB {
  open(options: OpenOptions, callback: Callback): void;
  close(callback: Callback): void;
  get(key: Buffer, options: { asBuffer?: boolean; fillCache?: boolean }, callback: Callback<Buffer>): void;
  getMany(keys: Buffer[], options: { asBuffer?: boolean; fillCache?: boolean }, callback: Callback<(Buffer | undefined)[]>): void;
  put(key: Buffer, value: Buffer, options: { sync?: boolean }, callback: Callback): void;
  del(key: Buffer, options: { sync?: boolean }, callback: Callback): void;
  batch(operations: BatchOperation[], options: { sync?: boolean }, callback: Callback): void;
  iterator(options: IteratorOptions): RawIterator;
  clear(options: IteratorOptions, callback: Callback): void;
  approximateSize(start: Buffer, end: Buffer, callback: Callback<number>): void;
  compactRange(start: Buffer, end: Buffer, callback: Callback): void;
}

const require = createRequire(import.meta.url);

/** Creates a (closed) database handle for `location`. */
export const rocksdb = require('rocksdb') as (location: string) => RocksDB;

/** The native batch calls under the package's `ChainedBatch` (rocksdb 5.x `binding.js`). */
interface NativeBatchBinding {
  batch_init(dbContext: unknown): unknown;
  batch_put(batchContext: unknown, key: Buffer, value: Buffer): void;
  batch_del(batchContext: unknown, key: Buffer): void;
  batch_write(batchContext: unknown, options: { sync?: boolean }, callback: Callback): void;
}

const native = require('rocksdb/binding.js') as Partial<NativeBatchBinding>;
const nativeBatch: NativeBatchBinding | undefined =
  typeof native.batch_init === 'function' && typeof native.batch_put === 'function' && typeof native.batch_del === 'function' && typeof native.batch_write === 'function'
    ? (native as NativeBatchBinding)
    : undefined;

/**
 * Writes `operations` atomically. The package's `batch(array)` reads three
 * properties of every operation object through N-API and its JS layer
 * checks and serialises every key again; the broker writes one operation
 * per record, so that costs ~1.5-2 us of event-loop time each. The same
 * native batch calls its own `ChainedBatch` makes, made directly with the
 * Buffers we already have, cost about half (measured on this machine). If
 * a future version of the package no longer has them, `batch` is used.
 */
export function writeBatch(db: RocksDB, operations: readonly BatchOperation[], options: { sync: boolean }, callback: Callback): void {
  const context = (db as unknown as { context?: unknown }).context;
  if (nativeBatch === undefined || context === undefined) {
    db.batch(operations as BatchOperation[], options, callback);
    return;
  }
  const batch = nativeBatch.batch_init(context);
  for (const operation of operations) {
    if (operation.type === 'put') nativeBatch.batch_put(batch, operation.key, operation.value);
    else nativeBatch.batch_del(batch, operation.key);
  }
  nativeBatch.batch_write(batch, options, callback);
}

/** The native iterator calls under the package's `Iterator` (rocksdb 5.x `iterator.js`). */
interface NativeIteratorBinding {
  iterator_init(dbContext: unknown, options: IteratorOptions): unknown;
  /** Calls back with up to `highWaterMark` bytes of entries as `[valueN, keyN, ..., value1, key1]`, and whether the range is done. */
  iterator_next(iteratorContext: unknown, callback: (error: Error | null, entries: Buffer[], finished: boolean) => void): void;
  iterator_end(iteratorContext: unknown, callback: Callback): void;
}

const nativeIterator: NativeIteratorBinding | undefined =
  typeof (native as Partial<NativeIteratorBinding>).iterator_init === 'function' &&
  typeof (native as Partial<NativeIteratorBinding>).iterator_next === 'function' &&
  typeof (native as Partial<NativeIteratorBinding>).iterator_end === 'function'
    ? (native as unknown as NativeIteratorBinding)
    : undefined;

/**
 * Visits the entries of a range in order, until `visit` returns false or
 * the range ends. The package's iterator hands out one entry per
 * `next()` callback, each through a `process.nextTick`, and our async
 * generator over it adds a promise per entry: ~1-2 us per record on the
 * read path of a consumer behind the tail cache. The native calls under it
 * return a chunk of entries (up to `highWaterMark` bytes) per round trip to
 * the thread pool; here each chunk is visited in one synchronous loop. Keys
 * and values are Buffers. Without those native calls (a future version of
 * the package), the package's iterator is used.
 */
export function scanRange(db: RocksDB, options: IteratorOptions, visit: (key: Buffer, value: Buffer) => boolean): Promise<void> | undefined {
  const context = (db as unknown as { context?: unknown }).context;
  if (nativeIterator === undefined || context === undefined) return undefined;
  const full: IteratorOptions = { keys: true, values: true, keyAsBuffer: true, valueAsBuffer: true, reverse: false, limit: -1, ...options };
  const iterator = nativeIterator.iterator_init(context, full);
  const binding = nativeIterator;
  return new Promise<void>((resolve, reject) => {
    const end = (error?: Error): void => {
      binding.iterator_end(iterator, (endError) => {
        if (error !== undefined) reject(error);
        else if (endError) reject(endError);
        else resolve();
      });
    };
    const next = (): void => {
      binding.iterator_next(iterator, (error, entries, finished) => {
        if (error) {
          end(error);
          return;
        }
        try {
          for (let i = entries.length - 1; i > 0; i -= 2) {
            if (!visit(entries[i] as Buffer, entries[i - 1] as Buffer)) {
              end();
              return;
            }
          }
        } catch (visitError) {
          end(visitError instanceof Error ? visitError : new Error(String(visitError)));
          return;
        }
        if (finished) end();
        else next();
      });
    };
    next();
  });
}
