import { describe, expect, it } from 'vitest';
import { StoredRecord } from '@braid/proto';
import type { Record as PublishedRecord } from '@braid/proto';
import { encodeStoredRecord, recordSize } from './record-codec.js';

function published(overrides: Partial<PublishedRecord> = {}): PublishedRecord {
  return { key: Buffer.from('customer-7'), value: Buffer.from('{"total":12}'), headers: {}, partition: undefined, deliverAtMs: 0, delayMs: 0, redriveCount: 0, ...overrides };
}

/** What the generated encoder writes for the same stored record. */
function generated(record: PublishedRecord, publishTimeMs: number, targetSubscription = ''): Buffer {
  const deliverAtMs = Math.max(record.deliverAtMs, record.delayMs > 0 ? publishTimeMs + record.delayMs : 0);
  return Buffer.from(
    StoredRecord.encode({ topic: '', partition: 0, offset: 0, key: record.key, value: record.value, headers: record.headers, publishTimeMs, deliverAtMs, targetSubscription, redriveCount: record.redriveCount }).finish(),
  );
}

describe('encodeStoredRecord', () => {
  const now = 1_764_420_000_123;
  const cases: [string, PublishedRecord, string][] = [
    ['a keyed record', published(), ''],
    ['no key, empty value', published({ key: undefined, value: Buffer.alloc(0) }), ''],
    ['an empty key', published({ key: Buffer.alloc(0) }), ''],
    ['headers, UTF-8 and empty parts', published({ headers: { traceparent: '00-abc-01', 'ü-name': 'välue', empty: '', '': 'no name' } }), ''],
    ['a delay and a delivery time', published({ delayMs: 86_400_000, deliverAtMs: 5 }), ''],
    ['a redrive for one subscription', published({ redriveCount: 3 }), 'billing-ü'],
    ['a value of 300 bytes (two-byte length)', published({ value: Buffer.alloc(300, 7) }), ''],
    ['a negative redrive count (generated fallback)', published({ redriveCount: -1 }), ''],
  ];
  for (const [name, record, target] of cases) {
    it(`writes the generated encoder's bytes: ${name}`, () => {
      const bytes = encodeStoredRecord(record, now, target);
      expect(bytes.equals(generated(record, now, target))).toBe(true);
      expect(StoredRecord.decode(bytes)).toMatchObject({ value: record.value, headers: record.headers, publishTimeMs: now, targetSubscription: target });
    });
  }

  it('counts key, value and header bytes against the record size limit', () => {
    expect(recordSize(published({ headers: { 'ü': 'ab' } }))).toBe(10 + 12 + 2 + 2);
    expect(recordSize(published({ key: undefined, value: Buffer.alloc(0) }))).toBe(0);
  });
});
