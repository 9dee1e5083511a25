/**
 * The broker's per-record spans (`deliver`, `retry`, `dead_letter`), each
 * linked to the record's creation context (the producer's `traceparent`
 * in its headers). They follow the producer's sampling decision: a record
 * whose `traceparent` is not sampled (or absent) gets none. Only with
 * tracing on is the stored record scanned for its `traceparent` (a walk over
 * the header fields, no full decode), so dispatch pays nothing while
 * tracing is off and little for unsampled records.
 */
import type { Attributes } from '@opentelemetry/api';
import { linkedSpanContext, messageId, sampledTraceparent, startRecordSpan, tracingEnabled } from '@braid/telemetry';
import { readVarint } from './delivery-encoding.js';

/** Where a record is, for its spans. */
export interface TracedRecord {
  topic: string;
  subscription: string;
  partition: number;
  offset: number;
  /** The stored record bytes (their headers carry the creation context). */
  payload: Uint8Array;
}

/** `StoredRecord.headers` is field 6: map entries with key 1 and value 2. */
const headersField = 6;

/** The header name's bytes. */
const traceparentName = Buffer.from('traceparent');

/**
 * The `traceparent` header of a stored record, if it has one. Runs for every
 * delivery while tracing is on, and most records carry no trace context (an
 * unsampled send adds none), so it walks the field tags (the headers follow
 * key and value: a few bytes read) and decodes a string only for the header
 * it finds. Malformed bytes yield undefined.
 */
export function storedTraceparent(payload: Uint8Array): string | undefined {
  try {
    const end = payload.length;
    let pos = 0;
    while (pos < end) {
      const [tag, afterTag] = readVarint(payload, pos);
      const wire = tag & 7;
      if (wire === 0) pos = readVarint(payload, afterTag)[1];
      else if (wire === 1) pos = afterTag + 8;
      else if (wire === 5) pos = afterTag + 4;
      else if (wire === 2) {
        const [length, start] = readVarint(payload, afterTag);
        const fieldEnd = start + length;
        if (fieldEnd > end) return undefined;
        if (Math.floor(tag / 8) === headersField) {
          const value = traceparentEntry(payload, start, fieldEnd);
          if (value !== undefined) return value;
        }
        pos = fieldEnd;
      } else return undefined;
    }
    return undefined;
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** The value of a header map entry at `[start, end)` when its key is `traceparent`. */
function traceparentEntry(payload: Uint8Array, start: number, end: number): string | undefined {
  let pos = start;
  let isTraceparent = false;
  let value: string | undefined;
  while (pos < end) {
    const [tag, afterTag] = readVarint(payload, pos);
    if ((tag & 7) !== 2) return undefined;
    const [length, fieldStart] = readVarint(payload, afterTag);
    const fieldEnd = fieldStart + length;
    if (fieldEnd > end) return undefined;
    const field = Math.floor(tag / 8);
    if (field === 1) isTraceparent = bytesEqual(payload, fieldStart, fieldEnd, traceparentName);
    else if (field === 2) value = Buffer.from(payload.buffer, payload.byteOffset + fieldStart, length).toString('utf8');
    pos = fieldEnd;
  }
  return isTraceparent ? (value ?? '') : undefined;
}

function bytesEqual(payload: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (payload[start + i] !== expected[i]) return false;
  return true;
}

/** Emits a zero-length `operation` span for `record` when tracing is on and the record is sampled. */
export function traceRecord(operation: 'deliver' | 'retry' | 'dead_letter', record: TracedRecord, attributes: Attributes): void {
  if (!tracingEnabled()) return;
  const traceparent = storedTraceparent(record.payload);
  if (!sampledTraceparent(traceparent)) return;
  const target = { topic: record.topic, partition: record.partition, messageId: messageId(record.partition, record.offset), subscription: record.subscription };
  startRecordSpan(operation, target, linkedSpanContext({ traceparent: traceparent ?? '' }), attributes).end();
}
