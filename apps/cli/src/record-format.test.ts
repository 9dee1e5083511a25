import { describe, expect, it } from 'vitest';
import { formatRecordJson, formatRecordText } from './record-format.js';

const record = {
  partition: 2,
  offset: 41,
  key: Buffer.from('user-1') as Buffer | undefined,
  value: Buffer.from('line one\r\nline two'),
  headers: { source: 'cli' },
  attempt: 3,
  publishTime: new Date(Date.UTC(2024, 4, 1, 12)),
};

describe('record formats', () => {
  it('prints "partition offset key value" on one line, key "-" when absent', () => {
    expect(formatRecordText(record)).toBe('2 41 user-1 line one\\r\\nline two\n');
    expect(formatRecordText({ ...record, key: undefined, value: Buffer.from('v') })).toBe('2 41 - v\n');
  });

  it('prints one JSON object per line with --json', () => {
    const text = formatRecordJson(record);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(text)).toEqual({
      partition: 2,
      offset: 41,
      key: 'user-1',
      value: 'line one\r\nline two',
      headers: { source: 'cli' },
      attempt: 3,
      publishTime: '2024-05-01T12:00:00.000Z',
    });
    expect(JSON.parse(formatRecordJson({ ...record, key: undefined }))).toMatchObject({ key: null });
  });
});
