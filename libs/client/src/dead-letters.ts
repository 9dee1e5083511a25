/**
 * Reading dead-letter topics. A dead-letter topic is an ordinary topic
 * (`<topic>.<subscription>.dlq` unless the subscription names another): each
 * record keeps the original key, carries the original headers plus
 * `braid-dlq-origin` (`<topic>/<partition>/<offset>/<subscription>`), and
 * has an encoded `braid.v1.DeadLetter` as its value, whose `dlqPartition`
 * and `dlqOffset` are left 0 because they are where the record lives
 * (proto/braid/v1/dlq_admin.proto). These helpers name the topic and turn
 * such a record (from `Admin.readRecords` or a consumer) back into a
 * `DeadLetter`.
 */
import { InvalidArgumentError } from '@braid/core';
import { DeadLetter } from '@braid/proto';
import type { StoredRecord } from '@braid/proto';

/** Header of every dead-letter record naming its origin: `<topic>/<partition>/<offset>/<subscription>`. */
export const deadLetterOriginHeader = 'braid-dlq-origin';

/** The dead-letter topic a subscription uses unless its settings name another: `<topic>.<subscription>.dlq`. */
export function defaultDeadLetterTopic(topic: string, subscription: string): string {
  return `${topic}.${subscription}.dlq`;
}

/** Where a dead-letter record was read from. */
export type DeadLetterRecord = Pick<StoredRecord, 'topic' | 'partition' | 'offset' | 'value' | 'headers'>;

/**
 * The `DeadLetter` a record of a dead-letter topic holds, with
 * `dlqPartition` and `dlqOffset` filled in from where the record lives.
 * Throws `InvalidArgumentError` when the record is not a dead letter (no
 * `braid-dlq-origin` header, or a value that is not a `DeadLetter` with an
 * origin): someone published to the topic by hand.
 */
export function decodeDeadLetter(record: DeadLetterRecord): DeadLetter {
  const where = `${record.topic}/${record.partition}/${record.offset}`;
  if (record.headers[deadLetterOriginHeader] === undefined) {
    throw new InvalidArgumentError(`record ${where} is not a dead letter: it has no ${deadLetterOriginHeader} header`);
  }
  let decoded: DeadLetter;
  try {
    decoded = DeadLetter.decode(record.value);
  } catch (error) {
    throw new InvalidArgumentError(`record ${where} is not a dead letter: its value is not a braid.v1.DeadLetter`, { cause: error });
  }
  if (!decoded.origin) throw new InvalidArgumentError(`record ${where} is not a dead letter: its DeadLetter has no origin`);
  return { ...decoded, dlqPartition: record.partition, dlqOffset: record.offset };
}
