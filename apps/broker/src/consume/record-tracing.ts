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
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
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

/** The `traceparent` header of a stored record, if it has one. */
export function storedTraceparent(payload: Uint8Array): string | undefined {
  const reader = new BinaryReader(payload);
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field !== headersField || wire !== WireType.LengthDelimited) {
      reader.skip(wire);
      continue;
    }
    const entry = new BinaryReader(reader.bytes());
    let key = '';
    let value = '';
    while (entry.pos < entry.len) {
      const [entryField, entryWire] = entry.tag();
      if (entryField === 1) key = entry.string();
      else if (entryField === 2) value = entry.string();
      else entry.skip(entryWire);
    }
    if (key === 'traceparent') return value;
  }
  return undefined;
}

/** Emits a zero-length `operation` span for `record` when tracing is on and the record is sampled. */
export function traceRecord(operation: 'deliver' | 'retry' | 'dead_letter', record: TracedRecord, attributes: Attributes): void {
  if (!tracingEnabled()) return;
  const traceparent = storedTraceparent(record.payload);
  if (!sampledTraceparent(traceparent)) return;
  const target = { topic: record.topic, partition: record.partition, messageId: messageId(record.partition, record.offset), subscription: record.subscription };
  startRecordSpan(operation, target, linkedSpanContext({ traceparent: traceparent ?? '' }), attributes).end();
}
