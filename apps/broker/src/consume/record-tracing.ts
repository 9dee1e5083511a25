/**
 * The broker's per-record spans (`deliver`, `retry`, `dead_letter`), each
 * linked to the record's creation context (the producer's `traceparent`
 * in its headers). Only with tracing on: the headers are decoded from the
 * stored bytes then, and never otherwise, so dispatch pays nothing while
 * tracing is off.
 */
import type { Attributes } from '@opentelemetry/api';
import { StoredRecord } from '@braid/proto';
import { linkedSpanContext, messageId, startRecordSpan, tracingEnabled } from '@braid/telemetry';

/** Where a record is, for its spans. */
export interface TracedRecord {
  topic: string;
  subscription: string;
  partition: number;
  offset: number;
  /** The stored record bytes (their headers carry the creation context). */
  payload: Uint8Array;
}

/** Emits a zero-length `operation` span for `record` when tracing is on. */
export function traceRecord(operation: 'deliver' | 'retry' | 'dead_letter', record: TracedRecord, attributes: Attributes): void {
  if (!tracingEnabled()) return;
  const { headers } = StoredRecord.decode(record.payload);
  const target = { topic: record.topic, partition: record.partition, messageId: messageId(record.partition, record.offset), subscription: record.subscription };
  startRecordSpan(operation, target, linkedSpanContext(headers), attributes).end();
}
