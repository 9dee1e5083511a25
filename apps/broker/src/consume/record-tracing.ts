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
 * unsampled send adds none), so it walks the field tags by hand (the
 * headers follow key and value: a few bytes read) and decodes a string only
 * for the header it finds. Malformed bytes yield undefined.
 */
export function storedTraceparent(payload: Uint8Array): string | undefined {
  const end = payload.length;
  let pos = 0;
  while (pos < end) {
    const tag = readVarint(payload, pos);
    pos = tag.next;
    const wire = tag.value & 7;
    if (wire === 0) pos = readVarint(payload, pos).next;
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const length = readVarint(payload, pos);
      const entryEnd = length.next + length.value;
      if (entryEnd > end) return undefined;
      if (tag.value >>> 3 === headersField) {
        const value = traceparentEntry(payload, length.next, entryEnd);
        if (value !== undefined) return value;
      }
      pos = entryEnd;
    } else return undefined;
  }
  return undefined;
}

/** The value of a header map entry at `[start, end)` when its key is `traceparent`. */
function traceparentEntry(payload: Uint8Array, start: number, end: number): string | undefined {
  let pos = start;
  let isTraceparent = false;
  let value: string | undefined;
  while (pos < end) {
    const tag = readVarint(payload, pos);
    if ((tag.value & 7) !== 2) return undefined;
    const length = readVarint(payload, tag.next);
    const fieldEnd = length.next + length.value;
    if (fieldEnd > end) return undefined;
    const field = tag.value >>> 3;
    if (field === 1) isTraceparent = bytesEqual(payload, length.next, fieldEnd, traceparentName);
    else if (field === 2) value = Buffer.from(payload.buffer, payload.byteOffset + length.next, length.value).toString('utf8');
    pos = fieldEnd;
  }
  return isTraceparent ? (value ?? '') : undefined;
}

function bytesEqual(payload: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (payload[start + i] !== expected[i]) return false;
  return true;
}

/** A protobuf varint at `pos` (up to 32 bits, as tags and lengths are) and where the next field starts. */
function readVarint(payload: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let at = pos;
  for (;;) {
    const byte = payload[at++] ?? 0;
    if (shift < 28) value |= (byte & 0x7f) << shift;
    else if (shift === 28) value += (byte & 0x0f) * 2 ** 28;
    shift += 7;
    if ((byte & 0x80) === 0 || at >= payload.length) return { value, next: at };
  }
}

/** Emits a zero-length `operation` span for `record` when tracing is on and the record is sampled. */
export function traceRecord(operation: 'deliver' | 'retry' | 'dead_letter', record: TracedRecord, attributes: Attributes): void {
  if (!tracingEnabled()) return;
  const traceparent = storedTraceparent(record.payload);
  if (!sampledTraceparent(traceparent)) return;
  const target = { topic: record.topic, partition: record.partition, messageId: messageId(record.partition, record.offset), subscription: record.subscription };
  startRecordSpan(operation, target, linkedSpanContext({ traceparent: traceparent ?? '' }), attributes).end();
}
