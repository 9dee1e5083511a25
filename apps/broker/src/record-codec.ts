/**
 * How a published record is stored: the protobuf encoding of a
 * `StoredRecord` holding key, value, headers, publish time and delivery
 * time. Topic, partition and offset are left out (the storage key holds
 * them) and added when the record is delivered. Because protobuf merges
 * concatenated encodings, a delivery appends those fields to the stored
 * bytes without decoding them (`consume/delivery-encoding.ts`).
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { StoredRecord } from '@braid/proto';
import type { Record as PublishedRecord } from '@braid/proto';

/** Bytes a record counts against `max_record_bytes`: key + value + headers. */
export function recordSize(record: PublishedRecord): number {
  let size = (record.key?.length ?? 0) + record.value.length;
  for (const [name, value] of Object.entries(record.headers)) size += Buffer.byteLength(name) + Buffer.byteLength(value);
  return size;
}

/** When the record becomes deliverable (0 = at once). */
export function deliverAt(record: PublishedRecord, publishTimeMs: number): number {
  const fromDelay = record.delayMs > 0 ? publishTimeMs + record.delayMs : 0;
  return Math.max(record.deliverAtMs, fromDelay);
}

/**
 * One writer for every record: encoding is synchronous, and reusing it keeps
 * its grown buffer instead of growing a fresh one from 1 KiB per record (a
 * visible cost on the publish path in CPU profiles).
 */
const writer = new BinaryWriter();

/**
 * Encodes `record` for the partition log; `targetSubscription` (a redrive)
 * makes it a record for that subscription only.
 */
export function encodeStoredRecord(record: PublishedRecord, publishTimeMs: number, targetSubscription = ''): Buffer {
  StoredRecord.encode(
    {
      topic: '',
      partition: 0,
      offset: 0,
      key: record.key,
      value: record.value,
      headers: record.headers,
      publishTimeMs,
      deliverAtMs: deliverAt(record, publishTimeMs),
      targetSubscription,
      redriveCount: record.redriveCount,
    },
    writer,
  );
  // `finish()` returns a fresh copy (and resets the writer): wrap it, don't copy again.
  const bytes = writer.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
