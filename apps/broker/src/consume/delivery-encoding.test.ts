import { describe, expect, it } from 'vitest';
import { StoredRecord, SubscribeResponse } from '@braid/proto';
import { encodeStoredRecord } from '../record-codec.js';
import { encodeDeliveryBatch, scanStoredRecord, topicField } from './delivery-encoding.js';

function stored(key: string | undefined, value: string, headers: Record<string, string> = {}): Buffer {
  return encodeStoredRecord(
    { key: key === undefined ? undefined : Buffer.from(key), value: Buffer.from(value), headers, deliverAtMs: 0, delayMs: 0, redriveCount: 0 },
    1_700_000_000_123,
  );
}

describe('delivery encoding', () => {
  it('decodes as the SubscribeResponse the generated code would have sent', () => {
    const records = [
      { payload: stored('user-1', 'created', { traceparent: '00-abc-def-01' }), partition: 0, offset: 0, attempt: 1, leaseDeadlineMs: 1_700_000_030_000, redriveCount: 0 },
      { payload: stored(undefined, ''), partition: 7, offset: 2 ** 40 + 3, attempt: 3, leaseDeadlineMs: 5, redriveCount: 2 },
      { payload: stored('ключ', 'x'.repeat(300)), partition: 4095, offset: 127, attempt: 1, leaseDeadlineMs: 128, redriveCount: 0 },
    ];
    const encoded = encodeDeliveryBatch(topicField('orders.eu-west'), records);
    const decoded = SubscribeResponse.decode(encoded.bytes);
    expect(decoded.kind?.$case).toBe('deliveries');
    const deliveries = decoded.kind?.$case === 'deliveries' ? decoded.kind.value.deliveries : [];
    expect(deliveries).toHaveLength(3);
    deliveries.forEach((delivery, i) => {
      const frame = records[i];
      const original = StoredRecord.decode(frame?.payload ?? new Uint8Array());
      expect(delivery).toMatchObject({ attempt: frame?.attempt, leaseDeadlineMs: frame?.leaseDeadlineMs, redriveCount: frame?.redriveCount });
      expect(delivery.record).toEqual({ ...original, topic: 'orders.eu-west', partition: frame?.partition, offset: frame?.offset });
    });
  });

  it('encodes an empty batch', () => {
    const decoded = SubscribeResponse.decode(encodeDeliveryBatch(topicField('t'), []).bytes);
    expect(decoded.kind).toEqual({ $case: 'deliveries', value: { deliveries: [] } });
  });

  it('scans key and value length like a full decode', () => {
    for (const [key, value] of [['k', 'v'], [undefined, 'no key'], ['', ''], ['long', 'v'.repeat(70_000)]] as const) {
      const payload = stored(key, value, { a: 'b' });
      const scanned = scanStoredRecord(payload);
      const full = StoredRecord.decode(payload);
      expect(scanned.key === undefined ? undefined : Buffer.from(scanned.key)).toEqual(full.key === undefined ? undefined : Buffer.from(full.key));
      expect(scanned.valueLength).toBe(full.value.length);
      expect(scanned.deliverAtMs).toBe(0);
    }
    const delayed = encodeStoredRecord({ key: undefined, value: Buffer.from('later'), headers: {}, deliverAtMs: 0, delayMs: 86_400_000, redriveCount: 0 }, 1_700_000_000_000);
    expect(scanStoredRecord(delayed).deliverAtMs).toBe(1_700_086_400_000);
    expect(scanStoredRecord(delayed)).toMatchObject({ targetSubscription: undefined, redriveCount: 0 });
    const redriven = encodeStoredRecord({ key: Buffer.from('k'), value: Buffer.from('again'), headers: {}, deliverAtMs: 0, delayMs: 0, redriveCount: 2 }, 1_700_000_000_000, 'billing');
    expect(scanStoredRecord(redriven)).toMatchObject({ targetSubscription: 'billing', redriveCount: 2, valueLength: 5 });
  });

  it('refuses a truncated record', () => {
    const payload = stored('key', 'value');
    expect(() => scanStoredRecord(payload.subarray(0, payload.length - 2))).toThrow(RangeError);
  });
});
