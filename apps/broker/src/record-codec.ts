/**
 * How a published record is stored: the protobuf encoding of a
 * `StoredRecord` holding key, value, headers, publish time and delivery
 * time. Topic, partition and offset are left out (the storage key holds
 * them) and added when the record is delivered. Because protobuf merges
 * concatenated encodings, a delivery appends those fields to the stored
 * bytes without decoding them (`consume/delivery-encoding.ts`).
 */
import {
  StoredRecord,
  fieldTag,
  lengthDelimitedSize,
  varintFieldSize,
  wireLengthDelimited,
  wireVarint,
  writeBytesField,
  writeStringField,
  writeVarint,
  writeVarintField,
} from '@braid/proto';
import type { Record as PublishedRecord } from '@braid/proto';

/** Bytes a record counts against `max_record_bytes`: key + value + headers. */
export function recordSize(record: PublishedRecord): number {
  let size = (record.key?.length ?? 0) + record.value.length;
  const { headers } = record;
  for (const name in headers) size += Buffer.byteLength(name) + Buffer.byteLength(headers[name] as string);
  return size;
}

/** When the record becomes deliverable (0 = at once). */
export function deliverAt(record: PublishedRecord, publishTimeMs: number): number {
  const fromDelay = record.delayMs > 0 ? publishTimeMs + record.delayMs : 0;
  return Math.max(record.deliverAtMs, fromDelay);
}

/**
 * Encodes `record` for the partition log; `targetSubscription` (a redrive)
 * makes it a record for that subscription only.
 *
 * Written by hand into one Buffer of the exact size: the same bytes as
 * `StoredRecord.encode` (fields in number order, defaults left out), which
 * it falls back to for numbers the varint writer does not take (a negative
 * redrive count is a ten-byte varint).
 */
export function encodeStoredRecord(record: PublishedRecord, publishTimeMs: number, targetSubscription = ''): Buffer {
  const { key, value, headers, redriveCount } = record;
  const deliverAtMs = deliverAt(record, publishTimeMs);
  if (!(isVarint(redriveCount) && isVarint(publishTimeMs) && isVarint(deliverAtMs))) return generatedEncoding(record, publishTimeMs, deliverAtMs, targetSubscription);
  let size = 0;
  if (key !== undefined) size += lengthDelimitedSize(key.length);
  if (value.length !== 0) size += lengthDelimitedSize(value.length);
  let headerSizes: number[] | undefined;
  for (const name in headers) {
    const entry = stringFieldSize(Buffer.byteLength(name)) + stringFieldSize(Buffer.byteLength(headers[name] as string));
    (headerSizes ??= []).push(entry);
    size += lengthDelimitedSize(entry);
  }
  size += varintFieldSize(publishTimeMs) + varintFieldSize(deliverAtMs) + varintFieldSize(redriveCount);
  const targetBytes = targetSubscription === '' ? 0 : Buffer.byteLength(targetSubscription);
  size += stringFieldSize(targetBytes);

  const out = Buffer.allocUnsafe(size);
  let at = 0;
  if (key !== undefined) at = writeBytesField(out, at, tags.key, key);
  if (value.length !== 0) at = writeBytesField(out, at, tags.value, value);
  if (headerSizes !== undefined) {
    let i = 0;
    for (const name in headers) {
      out[at++] = tags.headers;
      at = writeVarint(out, at, headerSizes[i++] as number);
      at = writeStringField(out, at, tags.headerKey, name);
      at = writeStringField(out, at, tags.headerValue, headers[name] as string);
    }
  }
  at = writeVarintField(out, at, tags.publishTimeMs, publishTimeMs);
  at = writeVarintField(out, at, tags.deliverAtMs, deliverAtMs);
  if (targetBytes > 0) at = writeStringField(out, at, tags.targetSubscription, targetSubscription);
  at = writeVarintField(out, at, tags.redriveCount, redriveCount);
  if (at !== size) throw new Error(`stored record encoding wrote ${at} of ${size} bytes`);
  return out;
}

/** Tags of the `StoredRecord` fields a published record fills (and of a header entry's). */
const tags = {
  key: fieldTag(4, wireLengthDelimited),
  value: fieldTag(5, wireLengthDelimited),
  headers: fieldTag(6, wireLengthDelimited),
  headerKey: fieldTag(1, wireLengthDelimited),
  headerValue: fieldTag(2, wireLengthDelimited),
  publishTimeMs: fieldTag(7, wireVarint),
  deliverAtMs: fieldTag(8, wireVarint),
  targetSubscription: fieldTag(9, wireLengthDelimited),
  redriveCount: fieldTag(10, wireVarint),
} as const;

function isVarint(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Size of a string field of `length` UTF-8 bytes, 0 for "" (proto3 leaves it out). */
function stringFieldSize(length: number): number {
  return length === 0 ? 0 : lengthDelimitedSize(length);
}

/** The generated encoder's bytes (the fallback, see `encodeStoredRecord`). */
function generatedEncoding(record: PublishedRecord, publishTimeMs: number, deliverAtMs: number, targetSubscription: string): Buffer {
  const bytes = StoredRecord.encode({
    topic: '',
    partition: 0,
    offset: 0,
    key: record.key,
    value: record.value,
    headers: record.headers,
    publishTimeMs,
    deliverAtMs,
    targetSubscription,
    redriveCount: record.redriveCount,
  }).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
