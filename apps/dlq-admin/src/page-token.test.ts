import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from './page-token.js';

describe('page tokens', () => {
  it('round-trip a position for the same query', () => {
    const token = encodePageToken('orders/audit/abc', [1_700_000_000_000, 3, 12_345]);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, 'orders/audit/abc', 3)).toEqual([1_700_000_000_000, 3, 12_345]);
  });

  it('refuse a token of another query with INVALID_ARGUMENT naming page_token', () => {
    const token = encodePageToken('orders/audit/abc', [1, 2, 3]);
    expect(() => decodePageToken(token, 'orders/audit/xyz', 3)).toThrow(/belongs to another query/);
  });

  it.each(['garbage!', Buffer.from('[1,"f",1]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1,"f",1.5,2,3]').toString('base64url')])(
    'refuse %s as not one of ours',
    (token) => {
      let thrown: unknown;
      try {
        decodePageToken(token, 'f', 3, 'page_token');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ reason: 'INVALID_ARGUMENT', metadata: { field: 'page_token' } });
    },
  );
});
