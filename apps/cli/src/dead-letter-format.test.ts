import { describe, expect, it } from 'vitest';
import { AttemptDisposition } from '@braid/client';
import type { DeadLetter } from '@braid/client';
import {
  formatDeadLetter,
  formatDeadLetterJson,
  formatDeadLetterList,
  formatDeadLetterSummaryJson,
  formatGap,
  renderKey,
  renderValue,
} from './dead-letter-format.js';

const t0 = Date.parse('2024-05-01T12:00:00.000Z');

function letter(overrides: Partial<DeadLetter> = {}): DeadLetter {
  return {
    dlqOffset: 4,
    dlqPartition: 0,
    origin: { topic: 'orders', partition: 2, offset: 17, subscription: 'billing', key: Buffer.from('user-1') },
    value: Buffer.from('{"id":7}'),
    headers: { traceparent: '00-abc-def-01', 'braid-x': 'y' },
    attempts: [
      { attempt: 1, timeMs: t0 + 50, memberId: 'm-1', disposition: AttemptDisposition.DISPOSITION_NACK, reason: 'timeout', errorClass: 'TimeoutError' },
      { attempt: 2, timeMs: t0 + 1_550, memberId: 'm-2', disposition: AttemptDisposition.DISPOSITION_LEASE_EXPIRED, reason: 'lease_expired', errorClass: '' },
    ],
    redriveCount: 0,
    deadLetteredAtMs: t0 + 1_560,
    publishTimeMs: t0,
    edits: [],
    ...overrides,
  };
}

describe('renderValue and renderKey', () => {
  it('prefers JSON, then text, then base64', () => {
    expect(renderValue(Buffer.from('{"a":[1,2]}'))).toEqual({ encoding: 'json', value: { a: [1, 2] } });
    expect(renderValue(Buffer.from('42'))).toEqual({ encoding: 'json', value: 42 });
    expect(renderValue(Buffer.from('hello\nworld'))).toEqual({ encoding: 'text', value: 'hello\nworld' });
    expect(renderValue(Buffer.from(''))).toEqual({ encoding: 'text', value: '' });
    expect(renderValue(Buffer.from([0xff, 0xfe]))).toEqual({ encoding: 'base64', value: '//4=' });
    // Valid UTF-8 but a control character: not printable text.
    expect(renderValue(Buffer.from([0x61, 0x00]))).toEqual({ encoding: 'base64', value: 'YQA=' });
    expect(renderKey(Buffer.from('{"k":1}'))).toEqual({ encoding: 'text', value: '{"k":1}' });
  });
});

describe('formatGap', () => {
  it('prints the gap between ledger events in a readable unit', () => {
    expect([0, 850, 1_500, 59_949, 125_000, 3 * 3_600_000 + 4 * 60_000].map(formatGap)).toEqual(['+0ms', '+850ms', '+1.5s', '+59.9s', '+2m05s', '+3h04m']);
    expect(formatGap(-20)).toBe('-20ms');
  });
});

describe('formatDeadLetterList', () => {
  it('prints one aligned row per dead letter, the last reason last, and marks records that are not dead letters', () => {
    const keyless = letter({ dlqOffset: 5, origin: { topic: 'orders', partition: 0, offset: 3, subscription: 'billing', key: undefined }, attempts: [
      { attempt: 1, timeMs: t0, memberId: 'm', disposition: AttemptDisposition.DISPOSITION_REJECT, reason: 'bad\ninput', errorClass: '' },
    ] });
    const binaryKey = letter({ dlqOffset: 6, origin: { topic: 'orders', partition: 1, offset: 9, subscription: 'billing', key: Buffer.from([0xff]) } });
    expect(formatDeadLetterList([{ deadLetter: letter() }, { deadLetter: keyless }, { deadLetter: binaryKey }, { partition: 0, offset: 7, problem: 'record x is not a dead letter' }])).toBe(
      'PARTITION  OFFSET  ORIGIN  KEY          ATTEMPTS  LAST           ERROR_CLASS  DEAD_LETTERED             REASON\n' +
        '0          4       2/17    user-1       2         lease_expired  -            2024-05-01T12:00:01.560Z  lease_expired\n' +
        '0          5       0/3     -            1         reject         -            2024-05-01T12:00:01.560Z  bad\\ninput\n' +
        '0          6       1/9     base64:/w==  2         lease_expired  -            2024-05-01T12:00:01.560Z  lease_expired\n' +
        '0          7       -       -            -         -              -            -                         (record x is not a dead letter)\n',
    );
  });

  it('prints one JSON object per dead letter with --json', () => {
    const line = formatDeadLetterSummaryJson('orders.billing.dlq', { deadLetter: letter() });
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      dlqTopic: 'orders.billing.dlq',
      dlqPartition: 0,
      dlqOffset: 4,
      origin: { topic: 'orders', partition: 2, offset: 17, subscription: 'billing' },
      key: 'user-1',
      keyEncoding: 'text',
      attempts: 2,
      last: { disposition: 'lease_expired', reason: 'lease_expired', errorClass: '', time: '2024-05-01T12:00:01.550Z' },
      publishTime: '2024-05-01T12:00:00.000Z',
      deadLetteredAt: '2024-05-01T12:00:01.560Z',
      redriveCount: 0,
    });
    expect(JSON.parse(formatDeadLetterSummaryJson('d', { partition: 1, offset: 2, problem: 'nope' }))).toMatchObject({ dlqPartition: 1, dlqOffset: 2, origin: null, problem: 'nope' });
  });
});

describe('formatDeadLetter', () => {
  it('prints origin, key, headers, pretty JSON and the ledger as a timeline', () => {
    expect(formatDeadLetter('orders.billing.dlq', letter())).toBe(
      [
        'Dead letter:    orders.billing.dlq partition 0 offset 4',
        'Origin:         orders partition 2 offset 17 (subscription billing)',
        'Key:            user-1',
        'Published:      2024-05-01T12:00:00.000Z',
        'Dead-lettered:  2024-05-01T12:00:01.560Z',
        'Attempts:       2',
        'Redrives:       0',
        '',
        'Headers:',
        '  braid-x: y',
        '  traceparent: 00-abc-def-01',
        '',
        'Value (JSON, 8 bytes):',
        '  {',
        '    "id": 7',
        '  }',
        '',
        'Timeline:',
        '  2024-05-01T12:00:00.000Z         published',
        '  2024-05-01T12:00:00.050Z  +50ms  attempt 1  nack  member m-1  reason: timeout  error class: TimeoutError',
        '  2024-05-01T12:00:01.550Z  +1.5s  attempt 2  lease_expired  member m-2  reason: lease_expired',
        '  2024-05-01T12:00:01.560Z  +10ms  dead-lettered',
        '',
      ].join('\n'),
    );
  });

  it('prints text as text, other bytes as base64, an empty value and operator edits', () => {
    expect(formatDeadLetter('d', letter({ value: Buffer.from('one\ntwo') }))).toContain('\nValue (text, 7 bytes):\n  one\n  two\n');
    expect(formatDeadLetter('d', letter({ value: Buffer.from([0, 1, 2]) }))).toContain('\nValue (base64, 3 bytes):\n  AAEC\n');
    expect(formatDeadLetter('d', letter({ value: Buffer.alloc(0), headers: {} }))).toContain('\nHeaders: none\n\nValue: empty\n');
    expect(formatDeadLetter('d', letter({ edits: [{ timeMs: t0, actor: 'ops@example.com', previousValue: Buffer.alloc(0), previousHeaders: {} }] }))).toContain(
      '\nEdits:\n  2024-05-01T12:00:00.000Z  ops@example.com\n',
    );
  });

  it('prints the whole dead letter as one JSON object with --json', () => {
    expect(JSON.parse(formatDeadLetterJson('orders.billing.dlq', letter()))).toEqual({
      dlqTopic: 'orders.billing.dlq',
      dlqPartition: 0,
      dlqOffset: 4,
      origin: { topic: 'orders', partition: 2, offset: 17, subscription: 'billing' },
      key: 'user-1',
      keyEncoding: 'text',
      headers: { traceparent: '00-abc-def-01', 'braid-x': 'y' },
      value: { id: 7 },
      valueEncoding: 'json',
      publishTime: '2024-05-01T12:00:00.000Z',
      deadLetteredAt: '2024-05-01T12:00:01.560Z',
      redriveCount: 0,
      attempts: [
        { attempt: 1, time: '2024-05-01T12:00:00.050Z', memberId: 'm-1', disposition: 'nack', reason: 'timeout', errorClass: 'TimeoutError' },
        { attempt: 2, time: '2024-05-01T12:00:01.550Z', memberId: 'm-2', disposition: 'lease_expired', reason: 'lease_expired', errorClass: '' },
      ],
      edits: [],
    });
    expect(JSON.parse(formatDeadLetterJson('d', letter({ value: Buffer.from([0xff]) })))).toMatchObject({ value: '/w==', valueEncoding: 'base64' });
  });
});
