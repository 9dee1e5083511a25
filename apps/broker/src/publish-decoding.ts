/**
 * Publish requests decoded by hand (`Publish`, `PublishStream`): a publish
 * carries up to thousands of records, and the generated decoder copies each
 * key and value into a new Buffer, reads every int64 through a BigInt and a
 * string, and starts each record from a defaults object with an empty
 * Buffer. Here keys and values are views of the request's bytes (they are
 * copied once, into the stored record, and the request is gone when the
 * append is), int64 fields are read as numbers, and each record is one
 * object literal. The result has the generated types' shape.
 *
 * Protobuf rules kept: unknown fields are skipped, a scalar field seen
 * twice keeps the last value, a message field seen twice is merged,
 * repeated fields append. Malformed bytes throw, and the server answers
 * them with INVALID_ARGUMENT (`tolerantDefinition` in `@braid/server`).
 */
import { WireReader, fieldTag, wireLengthDelimited, wireVarint } from '@braid/proto';
import type { ProducerServiceService, PublishRequest, PublishStreamRequest, Record as PublishedRecord } from '@braid/proto';

const emptyValue = Buffer.alloc(0);

/** `Record`: key = 1, value = 2, headers = 3, partition = 4, deliver_at_ms = 5, delay_ms = 6, redrive_count = 7. */
function decodeRecord(reader: WireReader): PublishedRecord {
  const record: PublishedRecord = { key: undefined, value: emptyValue, headers: {}, partition: undefined, deliverAtMs: 0, delayMs: 0, redriveCount: 0 };
  while (reader.more) {
    const tag = reader.varint();
    switch (tag) {
      case recordTags.key:
        record.key = reader.bytesView();
        break;
      case recordTags.value:
        record.value = reader.bytesView();
        break;
      case recordTags.headers:
        reader.stringMapEntry(record.headers);
        break;
      case recordTags.partition:
        record.partition = reader.int32();
        break;
      case recordTags.deliverAtMs:
        record.deliverAtMs = reader.varint();
        break;
      case recordTags.delayMs:
        record.delayMs = reader.varint();
        break;
      case recordTags.redriveCount:
        record.redriveCount = reader.int32();
        break;
      default:
        reader.skip(tag & 7);
    }
  }
  return record;
}

const recordTags = {
  key: fieldTag(1, wireLengthDelimited),
  value: fieldTag(2, wireLengthDelimited),
  headers: fieldTag(3, wireLengthDelimited),
  partition: fieldTag(4, wireVarint),
  deliverAtMs: fieldTag(5, wireVarint),
  delayMs: fieldTag(6, wireVarint),
  redriveCount: fieldTag(7, wireVarint),
} as const;

/**
 * `PublishRequest`: topic = 1, records = 2, producer_id = 3, partition = 4,
 * base_sequence = 5, leader_epoch = 6, target_subscription = 7. Merged into
 * `into` when given (the field came twice).
 */
function decodePublish(reader: WireReader, into?: PublishRequest): PublishRequest {
  const request: PublishRequest = into ?? { topic: '', records: [], producerId: '', partition: undefined, baseSequence: 0, leaderEpoch: 0, targetSubscription: '' };
  while (reader.more) {
    const tag = reader.varint();
    switch (tag) {
      case publishTags.topic:
        request.topic = reader.string();
        break;
      case publishTags.records:
        request.records.push(decodeRecord(reader.message()));
        break;
      case publishTags.producerId:
        request.producerId = reader.string();
        break;
      case publishTags.partition:
        request.partition = reader.int32();
        break;
      case publishTags.baseSequence:
        request.baseSequence = reader.varint();
        break;
      case publishTags.leaderEpoch:
        request.leaderEpoch = reader.varint();
        break;
      case publishTags.targetSubscription:
        request.targetSubscription = reader.string();
        break;
      default:
        reader.skip(tag & 7);
    }
  }
  return request;
}

const publishTags = {
  topic: fieldTag(1, wireLengthDelimited),
  records: fieldTag(2, wireLengthDelimited),
  producerId: fieldTag(3, wireLengthDelimited),
  partition: fieldTag(4, wireVarint),
  baseSequence: fieldTag(5, wireVarint),
  leaderEpoch: fieldTag(6, wireVarint),
  targetSubscription: fieldTag(7, wireLengthDelimited),
} as const;

/** Decodes a `PublishRequest` (the unary `Publish`). */
export function decodePublishRequest(bytes: Buffer): PublishRequest {
  return decodePublish(new WireReader(bytes));
}

/** Decodes a `PublishStreamRequest`: request_id = 1, publish = 2. */
export function decodePublishStreamRequest(bytes: Buffer): PublishStreamRequest {
  const reader = new WireReader(bytes);
  const request: PublishStreamRequest = { requestId: 0, publish: undefined };
  while (reader.more) {
    const tag = reader.varint();
    if (tag === fieldTag(1, wireVarint)) request.requestId = reader.varint();
    else if (tag === fieldTag(2, wireLengthDelimited)) request.publish = decodePublish(reader.message(), request.publish);
    else reader.skip(tag & 7);
  }
  return request;
}

/** The ProducerService definition with the hand-written request decoders. */
export function withHandDecodedPublishes(definition: typeof ProducerServiceService): typeof ProducerServiceService {
  return {
    ...definition,
    publish: { ...definition.publish, requestDeserialize: decodePublishRequest },
    publishStream: { ...definition.publishStream, requestDeserialize: decodePublishStreamRequest },
  };
}
