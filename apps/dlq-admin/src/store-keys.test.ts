import { describe, expect, it } from 'vitest';
import { Keyspace, auditKey, cursorKey, decodeAuditKey, decodeRecordKey, recordKey, topicRange } from './store-keys.js';

const within = (key: Buffer, range: { gte?: Buffer; lt?: Buffer }): boolean =>
  (range.gte === undefined || Buffer.compare(key, range.gte) >= 0) && (range.lt === undefined || Buffer.compare(key, range.lt) < 0);

describe('store keys', () => {
  it('sort records by topic, partition, then offset numerically', () => {
    const keys = [
      recordKey(Keyspace.record, 'orders.dlq', 1, 0),
      recordKey(Keyspace.record, 'orders.dlq', 0, 256),
      recordKey(Keyspace.record, 'orders.dlq', 0, 2 ** 40),
      recordKey(Keyspace.record, 'orders.dlq', 0, 255),
    ];
    const sorted = [...keys].sort((a, b) => Buffer.compare(a, b)).map(decodeRecordKey);
    expect(sorted).toEqual([
      { topic: 'orders.dlq', partition: 0, offset: 255 },
      { topic: 'orders.dlq', partition: 0, offset: 256 },
      { topic: 'orders.dlq', partition: 0, offset: 2 ** 40 },
      { topic: 'orders.dlq', partition: 1, offset: 0 },
    ]);
  });

  it("keep a topic's range free of topics that extend its name", () => {
    const range = topicRange(Keyspace.record, 'a');
    expect(within(recordKey(Keyspace.record, 'a', 7, 9), range)).toBe(true);
    expect(within(recordKey(Keyspace.record, 'a.b', 0, 0), range)).toBe(false);
    expect(within(recordKey(Keyspace.record, 'a-', 0, 0), range)).toBe(false);
    expect(within(recordKey(Keyspace.value, 'a', 0, 0), range)).toBe(false);
    expect(within(cursorKey('a', 3), topicRange(Keyspace.cursor, 'a'))).toBe(true);
    expect(decodeRecordKey(cursorKey('a', 3))).toEqual({ topic: 'a', partition: 3, offset: 0 });
  });

  it('order audit entries by id', () => {
    expect(Buffer.compare(auditKey(9), auditKey(10))).toBeLessThan(0);
    expect(decodeAuditKey(auditKey(123_456_789))).toBe(123_456_789);
  });
});
