/**
 * Records as applications hand them to `Producer.send()`, and their
 * normalisation into the proto `Record` that goes on the wire: strings
 * become UTF-8 bytes, times become Unix ms, and the size the batcher and the
 * topic's `max_record_bytes` count (key + value + headers) is computed once.
 */
import { InvalidArgumentError } from '@braid/core';
import type { Record as ProtoRecord } from '@braid/proto';

/** Bytes, or a string sent as its UTF-8 encoding. */
export type Bytes = Uint8Array | string;

/**
 * One record to publish. Buffers are not copied: do not modify them until
 * the `send()` that carries them has settled.
 */
export interface ProducerRecord {
  /**
   * Routing and ordering key: records with the same key go to the same
   * partition (`partitionForKey`) and keep their order. Without a key (and
   * without `partition`) records are spread round-robin.
   */
  key?: Bytes | undefined;
  /** Payload. */
  value: Bytes;
  /** Application headers (trace context travels as `traceparent`/`tracestate`). */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Explicit partition; overrides the key. Must be below the topic's partition count. */
  partition?: number | undefined;
  /** Deliver no earlier than this time (a `Date` or Unix ms). */
  deliverAt?: Date | number | undefined;
  /** Deliver no earlier than this long after the publish, in ms. */
  delayMs?: number | undefined;
  /**
   * Times an operator redrove this record from a dead-letter queue (set by
   * dlq-admin's redrive; consumers see it as `message.redriveCount`).
   */
  redriveCount?: number | undefined;
}

/** Where an acknowledged record landed. */
export interface RecordMetadata {
  /** Partition the record was appended to. */
  partition: number;
  /** Its offset in that partition. */
  offset: number;
}

/**
 * A validated record, ready to be routed and batched: the wire form itself
 * (`partition` is filled in when the record is routed; the encoder ignores
 * the extra fields), so each record costs one object while it waits for its
 * acknowledgement.
 */
export interface NormalizedRecord extends ProtoRecord {
  /** Bytes counted against batch and buffer limits: key + value + header names and values. */
  readonly size: number;
  /** The caller's explicit partition, if any. */
  readonly explicitPartition: number | undefined;
}

/** Bytes `headers` count against batch and buffer limits: their names and values. */
export function headersSize(headers: Readonly<Record<string, string>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(headers)) size += Buffer.byteLength(name) + Buffer.byteLength(value);
  return size;
}

/**
 * `record` with `extra` headers added (trace context), its size counting
 * them: `extraSize` is `headersSize(extra)`, computed once for all the
 * records that get the same headers. The record's own headers object is not
 * modified (it may be shared).
 */
export function withHeaders(record: NormalizedRecord, extra: Readonly<Record<string, string>>, extraSize: number): NormalizedRecord {
  return { ...record, headers: { ...record.headers, ...extra }, size: record.size + extraSize };
}

// Shared by every record without headers; the encoder only reads it.
const noHeaders: Record<string, string> = Object.freeze({});

function toBuffer(value: unknown, field: string, index: number): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new InvalidArgumentError(`record ${index}: ${field} must be a string or a Uint8Array, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function nonNegativeInteger(value: unknown, field: string, index: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`record ${index}: ${field} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function deliverAtMs(value: Date | number, index: number): number {
  const ms = value instanceof Date ? value.getTime() : value;
  return nonNegativeInteger(ms, 'deliverAt', index);
}

/**
 * Validates `record` and builds its wire form.
 *
 * @param index - position in the caller's array, for error messages.
 * @throws InvalidArgumentError (INVALID_ARGUMENT) for a missing value, a
 *   key/value that is neither string nor bytes, a non-string header value,
 *   or a negative or fractional partition, `deliverAt` or `delayMs`.
 */
export function normalizeRecord(record: ProducerRecord, index = 0): NormalizedRecord {
  // Plain JavaScript callers can pass anything.
  const candidate: unknown = record;
  if (typeof candidate !== 'object' || candidate === null) {
    throw new InvalidArgumentError(`record ${index} must be an object with a value, got ${describe(candidate)}`);
  }
  const value = toBuffer(record.value, 'value', index);
  const key = record.key === undefined ? undefined : toBuffer(record.key, 'key', index);
  let size = value.length + (key?.length ?? 0);

  let headers: Record<string, string> = noHeaders;
  if (record.headers !== undefined) {
    const copy: Record<string, string> = {};
    for (const [name, headerValue] of Object.entries(record.headers)) {
      if (typeof headerValue !== 'string') {
        throw new InvalidArgumentError(`record ${index}: header ${JSON.stringify(name)} must be a string, got ${describe(headerValue)}`);
      }
      copy[name] = headerValue;
      size += Buffer.byteLength(name) + Buffer.byteLength(headerValue);
    }
    headers = copy;
  }

  const partition = record.partition === undefined ? undefined : nonNegativeInteger(record.partition, 'partition', index);
  return {
    key,
    value,
    headers,
    partition,
    deliverAtMs: record.deliverAt === undefined ? 0 : deliverAtMs(record.deliverAt, index),
    delayMs: record.delayMs === undefined ? 0 : nonNegativeInteger(record.delayMs, 'delayMs', index),
    redriveCount: record.redriveCount === undefined ? 0 : nonNegativeInteger(record.redriveCount, 'redriveCount', index),
    size,
    explicitPartition: partition,
  };
}
