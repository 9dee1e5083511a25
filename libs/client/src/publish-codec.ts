/**
 * The producer stream's messages by hand, in both directions.
 *
 * `PublishStreamRequest`s are encoded by hand: a
 * batch of up to thousands of records is encoded once per request, and the
 * generated encoder forks a writer per record and per header and gathers
 * the chunks again at the end. Here the sizes are worked out first and the
 * request is written into one Buffer of the exact size: the same bytes as
 * the generated encoder (fields in number order, defaults left out). A
 * request with a number the varint writer does not take (negative, or not
 * an integer: the broker refuses those anyway) is left to the generated
 * encoder, so its bytes and its errors stay theirs.
 *
 * `PublishStreamResponse`s with results (one per record) are decoded by
 * hand: the generated decoder reads each offset through a BigInt and a
 * string. An error answer goes to the generated decoder.
 */
import {
  PublishStreamRequest as GeneratedPublishStreamRequest,
  PublishStreamResponse as GeneratedPublishStreamResponse,
  WireReader,
  fieldTag,
  lengthDelimitedSize,
  varintFieldSize,
  varintSize,
  wireLengthDelimited,
  wireVarint,
  writeBytesField,
  writeStringField,
  writeVarint,
  writeVarintField,
} from '@braid/proto';
import type { PublishRequest, PublishResult, PublishStreamRequest, PublishStreamResponse, Record as ProtoRecord } from '@braid/proto';

const tags = {
  requestId: fieldTag(1, wireVarint),
  publish: fieldTag(2, wireLengthDelimited),
  topic: fieldTag(1, wireLengthDelimited),
  records: fieldTag(2, wireLengthDelimited),
  producerId: fieldTag(3, wireLengthDelimited),
  publishPartition: fieldTag(4, wireVarint),
  baseSequence: fieldTag(5, wireVarint),
  leaderEpoch: fieldTag(6, wireVarint),
  targetSubscription: fieldTag(7, wireLengthDelimited),
  key: fieldTag(1, wireLengthDelimited),
  value: fieldTag(2, wireLengthDelimited),
  headers: fieldTag(3, wireLengthDelimited),
  headerKey: fieldTag(1, wireLengthDelimited),
  headerValue: fieldTag(2, wireLengthDelimited),
  partition: fieldTag(4, wireVarint),
  deliverAtMs: fieldTag(5, wireVarint),
  delayMs: fieldTag(6, wireVarint),
  redriveCount: fieldTag(7, wireVarint),
} as const;

/** Thrown inside the size pass when the generated encoder must take over. */
class NotByHand extends Error {}

function varintValue(value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new NotByHand();
  return value;
}

function varintField(value: number): number {
  return varintFieldSize(varintValue(value));
}

function stringField(text: string): number {
  return text === '' ? 0 : lengthDelimitedSize(Buffer.byteLength(text));
}

/** Sizes of one request's parts, worked out before anything is written. */
interface Sizes {
  publish: number;
  records: number[];
  /** Header entry sizes, in record then header order. */
  headers: number[];
  /** The next header entry size to write. */
  nextHeader: number;
}

function recordSize(record: ProtoRecord, sizes: Sizes): number {
  let size = 0;
  if (record.key !== undefined) size += lengthDelimitedSize(record.key.length);
  if (record.value.length !== 0) size += lengthDelimitedSize(record.value.length);
  const { headers } = record;
  for (const name in headers) {
    const entry = stringField(name) + stringField(headers[name] as string);
    sizes.headers.push(entry);
    size += lengthDelimitedSize(entry);
  }
  if (record.partition !== undefined) size += 1 + varintSize(varintValue(record.partition));
  return size + varintField(record.deliverAtMs) + varintField(record.delayMs) + varintField(record.redriveCount);
}

function publishSize(publish: PublishRequest, sizes: Sizes): number {
  let size = stringField(publish.topic);
  for (const record of publish.records) {
    const length = recordSize(record, sizes);
    sizes.records.push(length);
    size += lengthDelimitedSize(length);
  }
  size += stringField(publish.producerId);
  if (publish.partition !== undefined) size += 1 + varintSize(varintValue(publish.partition));
  return size + varintField(publish.baseSequence) + varintField(publish.leaderEpoch) + stringField(publish.targetSubscription);
}

/** Writes `record` (its size known) at `at`. */
function writeRecord(out: Buffer, at: number, record: ProtoRecord, sizes: Sizes): number {
  if (record.key !== undefined) at = writeBytesField(out, at, tags.key, record.key);
  if (record.value.length !== 0) at = writeBytesField(out, at, tags.value, record.value);
  const { headers } = record;
  for (const name in headers) {
    out[at++] = tags.headers;
    at = writeVarint(out, at, sizes.headers[sizes.nextHeader++] as number);
    at = writeStringField(out, at, tags.headerKey, name);
    at = writeStringField(out, at, tags.headerValue, headers[name] as string);
  }
  if (record.partition !== undefined) {
    out[at++] = tags.partition;
    at = writeVarint(out, at, record.partition);
  }
  at = writeVarintField(out, at, tags.deliverAtMs, record.deliverAtMs);
  at = writeVarintField(out, at, tags.delayMs, record.delayMs);
  return writeVarintField(out, at, tags.redriveCount, record.redriveCount);
}

/** Encodes `request` (see the file comment). */
export function encodePublishStreamRequest(request: PublishStreamRequest): Buffer {
  const { publish } = request;
  const sizes: Sizes = { publish: 0, records: [], headers: [], nextHeader: 0 };
  let size: number;
  try {
    size = varintField(request.requestId);
    if (publish !== undefined) {
      sizes.publish = publishSize(publish, sizes);
      size += lengthDelimitedSize(sizes.publish);
    }
  } catch (error) {
    if (!(error instanceof NotByHand)) throw error;
    return Buffer.from(GeneratedPublishStreamRequest.encode(request).finish());
  }
  const out = Buffer.allocUnsafe(size);
  let at = writeVarintField(out, 0, tags.requestId, request.requestId);
  if (publish !== undefined) {
    out[at++] = tags.publish;
    at = writeVarint(out, at, sizes.publish);
    at = writeStringField(out, at, tags.topic, publish.topic);
    const { records } = publish;
    for (let i = 0; i < records.length; i++) {
      out[at++] = tags.records;
      at = writeVarint(out, at, sizes.records[i] as number);
      at = writeRecord(out, at, records[i] as ProtoRecord, sizes);
    }
    at = writeStringField(out, at, tags.producerId, publish.producerId);
    if (publish.partition !== undefined) {
      out[at++] = tags.publishPartition;
      at = writeVarint(out, at, publish.partition);
    }
    at = writeVarintField(out, at, tags.baseSequence, publish.baseSequence);
    at = writeVarintField(out, at, tags.leaderEpoch, publish.leaderEpoch);
    at = writeStringField(out, at, tags.targetSubscription, publish.targetSubscription);
  }
  if (at !== size) throw new Error(`publish request encoding wrote ${at} of ${size} bytes`);
  return out;
}

/**
 * Decodes a `PublishStreamResponse`: request_id = 1, ok = 2 (a
 * `PublishResponse`: results = 1, each partition = 1, offset = 2,
 * duplicate = 3). Anything else (an `error` answer) goes to the generated
 * decoder.
 */
export function decodePublishStreamResponse(bytes: Buffer): PublishStreamResponse {
  const reader = new WireReader(bytes);
  let requestId = 0;
  let results: PublishResult[] | undefined;
  while (reader.more) {
    const tag = reader.varint();
    if (tag === fieldTag(1, wireVarint)) requestId = reader.varint();
    else if (tag === fieldTag(2, wireLengthDelimited)) results = decodeResults(reader.message(), results ?? []);
    else return GeneratedPublishStreamResponse.decode(bytes);
  }
  return results === undefined ? { requestId, result: undefined } : { requestId, result: { $case: 'ok', value: { results } } };
}

function decodeResults(reader: WireReader, into: PublishResult[]): PublishResult[] {
  while (reader.more) {
    const tag = reader.varint();
    if (tag !== fieldTag(1, wireLengthDelimited)) {
      reader.skip(tag & 7);
      continue;
    }
    const entry = reader.message();
    const result: PublishResult = { partition: 0, offset: 0, duplicate: false };
    while (entry.more) {
      const field = entry.varint();
      if (field === fieldTag(1, wireVarint)) result.partition = entry.int32();
      else if (field === fieldTag(2, wireVarint)) result.offset = entry.varint();
      else if (field === fieldTag(3, wireVarint)) result.duplicate = entry.varint() !== 0;
      else entry.skip(field & 7);
    }
    into.push(result);
  }
  return into;
}
