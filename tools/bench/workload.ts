/** The records consume benchmarks publish: random values of a fixed size, 10-byte keys cycling through `keys` distinct ones. */
import { randomBytes } from 'node:crypto';
import type { ProducerRecord } from '@braid/client';

/** Bytes of every key (`key-000042`). */
export const keyBytes = 10;

/** Builds record `i` of a workload. */
export type RecordFactory = (i: number, headers?: Record<string, string>) => ProducerRecord;

/**
 * Records with `size`-byte values (1024 random buffers, reused) and keys
 * `i % keys` (`keys` 0: keyless, round-robin over partitions).
 */
export function workload(size: number, keys: number): RecordFactory {
  const values = Array.from({ length: 1024 }, () => randomBytes(size));
  const keyList = Array.from({ length: keys }, (_, i) => Buffer.from(`key-${String(i).padStart(keyBytes - 4, '0')}`));
  return (i, headers) => ({
    key: keyList.length > 0 ? keyList[i % keyList.length] : undefined,
    value: values[i % values.length] ?? Buffer.alloc(0),
    headers,
  });
}
