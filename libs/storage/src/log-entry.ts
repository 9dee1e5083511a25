/**
 * The value of a log record: `[publish timestamp ms u64][payload]`. The
 * payload is opaque here; the broker stores its encoded record in it.
 */
import { LOG_KEY_BYTES } from './keys.js';
import { readU64, writeU64 } from './u64.js';

/** Bytes of the timestamp before the payload. */
export const LOG_VALUE_HEADER_BYTES = 8;

/** One record of a partition log. */
export interface LogRecord {
  /** Position in the partition, from 0, without gaps. */
  readonly offset: number;
  /** Publish timestamp, ms since the epoch (never decreases along a partition). */
  readonly timestampMs: number;
  /** The bytes given to `append`. */
  readonly payload: Buffer;
}

/** Encodes a record's value into `target` at `at`; returns where it ends. */
export function encodeLogValueInto(target: Buffer, at: number, timestampMs: number, payload: Uint8Array): number {
  writeU64(target, timestampMs, at);
  target.set(payload, at + LOG_VALUE_HEADER_BYTES);
  return at + LOG_VALUE_HEADER_BYTES + payload.length;
}

/** Decodes a record's value (the payload is a view into `value`, not a copy). */
export function decodeLogValue(value: Buffer): { timestampMs: number; payload: Buffer } {
  if (value.length < LOG_VALUE_HEADER_BYTES) throw new RangeError(`log value of ${value.length} bytes is shorter than its header`);
  return { timestampMs: readU64(value, 0), payload: value.subarray(LOG_VALUE_HEADER_BYTES) };
}

/**
 * Bytes a record of `payloadBytes` takes in the database (key + value): the
 * unit of `sizeBytes`, retention's `maxBytes` and `unflushedBytes`.
 */
export function storedRecordBytes(payloadBytes: number): number {
  return LOG_KEY_BYTES + LOG_VALUE_HEADER_BYTES + payloadBytes;
}
