/**
 * Opaque page tokens: where the previous page ended, tied to the query that
 * produced it. A position (not an index) keeps paging stable while records
 * arrive or leave; the query fingerprint refuses a token replayed with
 * another filter or queue, which would silently skip or repeat records.
 */
import { InvalidArgumentError } from '@braid/core';

const version = 1;

/** Encodes `position` (safe integers) after a page of the query `fingerprint`. */
export function encodePageToken(fingerprint: string, position: readonly number[]): string {
  return Buffer.from(JSON.stringify([version, fingerprint, ...position])).toString('base64url');
}

/**
 * The position in `token`, which must come from the same query
 * (`fingerprint`) and hold `length` numbers.
 *
 * @throws InvalidArgumentError naming `field` for a token that is not one of ours or belongs to another query.
 */
export function decodePageToken(token: string, fingerprint: string, length: number, field = 'page_token'): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`${field} is not a page token from this service`, { cause: error, metadata: { field } });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== length + 2 ||
    parsed[0] !== version ||
    typeof parsed[1] !== 'string' ||
    !parsed.slice(2).every((n) => Number.isSafeInteger(n))
  ) {
    throw new InvalidArgumentError(`${field} is not a page token from this service`, { metadata: { field } });
  }
  if (parsed[1] !== fingerprint) {
    throw new InvalidArgumentError(`${field} belongs to another query (queue or filter changed); start again without a token`, {
      metadata: { field },
    });
  }
  return parsed.slice(2) as number[];
}
