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
