/**
 * Deliveries on the wire without decoding the stored records.
 *
 * A record is stored as the protobuf encoding of a `StoredRecord` without
 * topic, partition and offset (`record-codec.ts`). Protobuf merges
 * concatenated encodings of a message, so the `StoredRecord` of a delivery
 * is the stored bytes followed by those three fields, and a whole
 * `SubscribeResponse { deliveries: DeliveryBatch { deliveries: [...] } }`
 * can be written straight into one buffer: a copy of each stored record plus
 * a few bytes of framing, instead of decoding every record into objects and
 * encoding them again (which was a quarter of the broker's dispatch CPU).
 *
 * For dispatch only the key (ownership), the value's length (byte credit)
 * and the delivery time (delayed records) are needed; `scanStoredRecord`
 * reads just those.
 *
 * The Subscribe method's response serializer passes `EncodedResponse`
 * through untouched and encodes everything else as generated.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { WireReader, varintFieldSize, varintSize, wireLengthDelimited, writeVarint, writeVarintField } from '@braid/proto';
import type { SubscribeResponse } from '@braid/proto';

/** A `SubscribeResponse` already encoded (see the file comment). */
export class EncodedResponse {
  constructor(readonly bytes: Buffer) {}
}

/** What a Subscribe stream writes: a response object or pre-encoded bytes. */
export type SubscribeOutput = SubscribeResponse | EncodedResponse;

/** One delivery to encode. */
export interface DeliveryFrame {
  /** The stored record bytes. */
  readonly payload: Uint8Array;
  readonly partition: number;
  readonly offset: number;
  readonly attempt: number;
  readonly leaseDeadlineMs: number;
  readonly redriveCount: number;
}

/** The parts of a stored record that dispatch needs. */
export interface ScannedRecord {
  /** The key, if the record has one (a view into the payload). */
  readonly key: Buffer | undefined;
  /** Length of the value in bytes. */
  readonly valueLength: number;
  /** Earliest delivery time (Unix ms) asked for at publish; 0 if none. */
  readonly deliverAtMs: number;
  /** The only subscription the record is for (a redrive); undefined: all. */
  readonly targetSubscription: string | undefined;
  /** Times the record was redriven from a dead-letter queue. */
  readonly redriveCount: number;
}

/** A varint of a stored record at `at`: its value and where the next field starts; RangeError when truncated. */
export function readVarint(source: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = source[at++];
    if (byte === undefined) throw new RangeError('truncated varint in a stored record');
    value += (byte & 127) * scale;
    if (byte < 128) return [value, at];
    scale *= 128;
  }
}

/** Reads key and value length from a stored `StoredRecord` encoding. */
export function scanStoredRecord(payload: Uint8Array): ScannedRecord {
  const buffer = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const reader = new WireReader(buffer);
  let key: Buffer | undefined;
  let valueLength = 0;
  let deliverAtMs = 0;
  let targetSubscription: string | undefined;
  let redriveCount = 0;
  while (reader.more) {
    const tag = reader.varint();
    switch (tag) {
      case keyTag:
        key = reader.bytesView();
        break;
      case valueTag: {
        const start = reader.delimited();
        valueLength = reader.pos - start;
        break;
      }
      case deliverAtTag:
        deliverAtMs = reader.varint();
        break;
      case targetSubscriptionTag: {
        const target = reader.string();
        if (target !== '') targetSubscription = target;
        break;
      }
      case redriveCountTag:
        redriveCount = reader.varint();
        break;
      default:
        reader.skip(tag & 7);
    }
  }
  return { key, valueLength, deliverAtMs, targetSubscription, redriveCount };
}

// Tags of the `StoredRecord` fields dispatch reads.
const keyTag = (4 << 3) | 2;
const valueTag = (5 << 3) | 2;
const deliverAtTag = 8 << 3;
const targetSubscriptionTag = (9 << 3) | 2;
const redriveCountTag = 10 << 3;

/** `StoredRecord.topic` (field 1) encoded once per dispatcher. */
export function topicField(topic: string): Buffer {
  const name = Buffer.from(topic, 'utf8');
  const field = Buffer.allocUnsafe(1 + varintSize(name.length) + name.length);
  const at = writeVarint(field, 1, name.length);
  field[0] = (1 << 3) | wireLengthDelimited;
  name.copy(field, at);
  return field;
}


function recordSize(frame: DeliveryFrame, topic: Buffer): number {
  return frame.payload.length + topic.length + varintFieldSize(frame.partition) + varintFieldSize(frame.offset);
}

function deliverySize(frame: DeliveryFrame, record: number): number {
  return (
    1 + varintSize(record) + record + varintFieldSize(frame.attempt) + varintFieldSize(frame.leaseDeadlineMs) + varintFieldSize(frame.redriveCount)
  );
}

/** Encodes `SubscribeResponse { deliveries: { deliveries: frames } }` for records of the topic `topic`. */
export function encodeDeliveryBatch(topic: Buffer, frames: readonly DeliveryFrame[]): EncodedResponse {
  const recordSizes = new Array<number>(frames.length);
  const deliverySizes = new Array<number>(frames.length);
  let batchSize = 0;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i] as DeliveryFrame;
    const record = recordSize(frame, topic);
    const delivery = deliverySize(frame, record);
    recordSizes[i] = record;
    deliverySizes[i] = delivery;
    batchSize += 1 + varintSize(delivery) + delivery;
  }
  const out = Buffer.allocUnsafe(1 + varintSize(batchSize) + batchSize);
  // SubscribeResponse.deliveries (field 2).
  out[0] = (2 << 3) | wireLengthDelimited;
  let at = writeVarint(out, 1, batchSize);
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i] as DeliveryFrame;
    // DeliveryBatch.deliveries (field 1).
    out[at++] = (1 << 3) | wireLengthDelimited;
    at = writeVarint(out, at, deliverySizes[i] as number);
    // Delivery.record (field 1): stored bytes + topic, partition, offset.
    out[at++] = (1 << 3) | wireLengthDelimited;
    at = writeVarint(out, at, recordSizes[i] as number);
    out.set(frame.payload, at);
    at += frame.payload.length;
    topic.copy(out, at);
    at += topic.length;
    // StoredRecord.partition, offset (fields 2-3, varints: the tag is the field number << 3).
    at = writeVarintField(out, at, 2 << 3, frame.partition);
    at = writeVarintField(out, at, 3 << 3, frame.offset);
    // Delivery.attempt, lease_deadline_ms, redrive_count (fields 2-4).
    at = writeVarintField(out, at, 2 << 3, frame.attempt);
    at = writeVarintField(out, at, 3 << 3, frame.leaseDeadlineMs);
    at = writeVarintField(out, at, 4 << 3, frame.redriveCount);
  }
  if (at !== out.length) throw new Error(`delivery batch encoding wrote ${at} of ${out.length} bytes`);
  return new EncodedResponse(out);
}

/** `definition` with the Subscribe response serializer passing `EncodedResponse` through. */
export function withEncodedSubscribeResponses<D extends ServiceDefinition>(definition: D, method: keyof D & string): D {
  const original = definition[method];
  if (!original) throw new Error(`no method ${method} in the service definition`);
  const serialize = original.responseSerialize;
  return {
    ...definition,
    [method]: {
      ...original,
      responseSerialize: (value: unknown): Buffer => (value instanceof EncodedResponse ? value.bytes : serialize(value)),
    },
  };
}
