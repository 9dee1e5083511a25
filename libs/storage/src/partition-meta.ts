/**
 * The value of a partition meta key: what recovery cannot derive from the
 * log keys themselves. Written in the same atomic batch as the records (or
 * deletions) that change it, so it always matches the log.
 *
 * `[version u8 = 1][logStartOffset u64][sizeBytes u64][maxAgeMs u64][maxBytes u64]`
 */
import { readU64, writeU64 } from './u64.js';

const VERSION = 1;
const BYTES = 1 + 8 * 4;

/** Durable per-partition metadata. */
export interface PartitionMeta {
  /** First offset still in the log (records below it were deleted by retention). */
  logStartOffset: number;
  /** Stored bytes of the records in [logStartOffset, high watermark). */
  sizeBytes: number;
  /** Retention by age; 0 = unlimited. */
  maxAgeMs: number;
  /** Retention by size; 0 = unlimited. */
  maxBytes: number;
}

/** Encodes partition meta. */
export function encodePartitionMeta(meta: PartitionMeta): Buffer {
  const value = Buffer.allocUnsafe(BYTES);
  value[0] = VERSION;
  writeU64(value, meta.logStartOffset, 1);
  writeU64(value, meta.sizeBytes, 9);
  writeU64(value, meta.maxAgeMs, 17);
  writeU64(value, meta.maxBytes, 25);
  return value;
}

/** Decodes partition meta; throws on an unknown version. */
export function decodePartitionMeta(value: Buffer): PartitionMeta {
  if (value.length < BYTES || value[0] !== VERSION) {
    throw new RangeError(`unknown partition meta encoding (version ${value[0] ?? 'none'}, ${value.length} bytes)`);
  }
  return {
    logStartOffset: readU64(value, 1),
    sizeBytes: readU64(value, 9),
    maxAgeMs: readU64(value, 17),
    maxBytes: readU64(value, 25),
  };
}
