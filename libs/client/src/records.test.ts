import { status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { normalizeRecord } from './records.js';
import type { ProducerRecord } from './records.js';

describe('normalizeRecord', () => {
  it('encodes strings as UTF-8 and counts key, value and header bytes', () => {
    const record = normalizeRecord({ key: 'ü', value: 'héllo', headers: { 'trace-id': 'ab' } });
    expect(record.value.toString('utf8')).toBe('héllo');
    expect(record.key?.toString('utf8')).toBe('ü');
    expect(record.size).toBe(2 + 6 + 8 + 2);
    expect(record.headers).toEqual({ 'trace-id': 'ab' });
    expect(record).toMatchObject({ deliverAtMs: 0, delayMs: 0, partition: undefined, explicitPartition: undefined });
  });

  it('wraps a Uint8Array view without copying it', () => {
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5]);
    const record = normalizeRecord({ value: backing.subarray(2, 5) });
    expect([...record.value]).toEqual([2, 3, 4]);
    backing[3] = 9;
    expect([...record.value]).toEqual([2, 9, 4]);
    expect(record.key).toBeUndefined();
  });

  it('takes an explicit partition, a deliverAt Date or number, and delayMs', () => {
    expect(normalizeRecord({ value: 'v', partition: 3 }).explicitPartition).toBe(3);
    expect(normalizeRecord({ value: 'v', deliverAt: new Date(1_700_000_000_000) }).deliverAtMs).toBe(1_700_000_000_000);
    expect(normalizeRecord({ value: 'v', deliverAt: 5 }).deliverAtMs).toBe(5);
    expect(normalizeRecord({ value: 'v', delayMs: 250 }).delayMs).toBe(250);
  });

  it.each([
    ['no value', {}],
    ['a numeric value', { value: 5 }],
    ['an object key', { value: 'v', key: {} }],
    ['a non-string header', { value: 'v', headers: { n: 1 } }],
    ['a negative partition', { value: 'v', partition: -1 }],
    ['a fractional delay', { value: 'v', delayMs: 1.5 }],
    ['an invalid date', { value: 'v', deliverAt: new Date('nope') }],
  ])('rejects %s with INVALID_ARGUMENT naming the record', (_label, record) => {
    expect(() => normalizeRecord(record as unknown as ProducerRecord, 4)).toThrow(
      expect.objectContaining({ code: Status.INVALID_ARGUMENT, message: expect.stringContaining('record 4') as unknown }) as Error,
    );
  });

  it('rejects something that is not an object', () => {
    expect(() => normalizeRecord(null as unknown as ProducerRecord)).toThrow(/must be an object/);
  });
});
