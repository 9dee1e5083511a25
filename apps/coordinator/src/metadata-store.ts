/**
 * Where the coordinator keeps cluster metadata: a small, backend-neutral
 * key-value interface (string keys, Buffer values) that the embedded
 * RocksDB store and the etcd store implement (metadata-store.contract.test.ts
 * holds both to it). It offers only what both can do well: point reads,
 * prefix listing, and an atomic batch of puts and deletes (an etcd
 * transaction; a RocksDB write batch). Callers serialise their own writes
 * (see `MetadataChanges`), so the store needs no compare-and-set.
 */

/** One write of an atomic `commit`. */
export type StoreOp =
  | { type: 'put'; key: string; value: Buffer }
  | { type: 'del'; key: string };

/** One stored key and its value. */
export interface StoreEntry {
  key: string;
  value: Buffer;
}

/** A durable key-value store for cluster metadata. */
export interface MetadataStore {
  /** The value at `key`, or undefined. */
  get(key: string): Promise<Buffer | undefined>;
  /** Every entry whose key starts with `prefix`, in key order (bytewise UTF-8). */
  list(prefix: string): Promise<StoreEntry[]>;
  /** Stores `value` at `key` durably. */
  put(key: string, value: Buffer): Promise<void>;
  /** Removes `key` durably (no error if absent). */
  delete(key: string): Promise<void>;
  /**
   * Applies all of `ops` atomically and durably: all or none are visible,
   * also after a crash. When `ops` writes a key more than once, the last
   * write wins.
   */
  commit(ops: readonly StoreOp[]): Promise<void>;
  /** Flushes and closes. Idempotent. */
  close(): Promise<void>;
}

/** A `put` op with `value` stored as JSON. */
export function putJson(key: string, value: unknown): StoreOp {
  return { type: 'put', key, value: Buffer.from(JSON.stringify(value)) };
}

/** A `del` op. */
export function del(key: string): StoreOp {
  return { type: 'del', key };
}

/** Parses a JSON value written by `putJson`; the caller validates its shape. */
export function parseJson(value: Buffer): unknown {
  return JSON.parse(value.toString('utf8'));
}
