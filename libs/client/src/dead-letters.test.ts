import { describe, expect, it } from 'vitest';
import { DeadLetter, Disposition } from '@braid/proto';
import { deadLetterOriginHeader, decodeDeadLetter, defaultDeadLetterTopic } from './dead-letters.js';

const letter: DeadLetter = {
  dlqOffset: 0,
  dlqPartition: 0,
  origin: { topic: 'orders', partition: 3, offset: 41, subscription: 'billing', key: Buffer.from('user-1') },
  value: Buffer.from('{"id":1}'),
  headers: { source: 'test' },
  attempts: [{ attempt: 1, timeMs: 1_000, memberId: 'm-1', disposition: Disposition.DISPOSITION_REJECT, reason: 'bad', errorClass: 'ParseError' }],
  redriveCount: 0,
  deadLetteredAtMs: 1_001,
  publishTimeMs: 900,
  edits: [],
};

const record = (value: Uint8Array, headers: Record<string, string> = { [deadLetterOriginHeader]: 'orders/3/41/billing' }) => ({
  topic: 'orders.billing.dlq',
  partition: 2,
  offset: 7,
  value: Buffer.from(value),
  headers,
});

describe('dead letters', () => {
  it('names the default dead-letter topic', () => {
    expect(defaultDeadLetterTopic('orders', 'billing')).toBe('orders.billing.dlq');
  });

  it('decodes a dead-letter record and fills in where it lives', () => {
    const decoded = decodeDeadLetter(record(DeadLetter.encode(letter).finish()));
    expect(decoded).toMatchObject({ ...letter, dlqPartition: 2, dlqOffset: 7 });
    expect(Buffer.from(decoded.origin?.key ?? []).toString()).toBe('user-1');
  });

  it('refuses records that are not dead letters, saying why', () => {
    expect(() => decodeDeadLetter(record(DeadLetter.encode(letter).finish(), {}))).toThrow(
      'record orders.billing.dlq/2/7 is not a dead letter: it has no braid-dlq-origin header',
    );
    expect(() => decodeDeadLetter(record(Buffer.from([0xff, 0xff, 0xff])))).toThrow('record orders.billing.dlq/2/7 is not a dead letter: its value is not a braid.v1.DeadLetter');
    expect(() => decodeDeadLetter(record(Buffer.alloc(0)))).toThrow('its DeadLetter has no origin');
  });
});
