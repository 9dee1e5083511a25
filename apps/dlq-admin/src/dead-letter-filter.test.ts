import { describe, expect, it } from 'vitest';
import { DeadLetterFilter } from '@braid/proto';
import { compileFilter } from './dead-letter-filter.js';
import type { RecordSummary } from './record-summary.js';

function summary(overrides: Partial<RecordSummary> = {}): RecordSummary {
  return {
    partition: 0,
    offset: 0,
    originPartition: 0,
    originOffset: 0,
    key: Buffer.from('user-1'),
    reason: 'mailbox full',
    errorClass: 'MailboxFullError',
    attempts: 3,
    deadLetteredAtMs: 1_000,
    redriveCount: 0,
    valueSize: 10,
    removed: false,
    ...overrides,
  };
}

const filter = (fields: Partial<DeadLetterFilter>) => compileFilter(DeadLetterFilter.fromPartial(fields));

describe('compileFilter', () => {
  it('passes everything without a filter and describes it as "all"', () => {
    const compiled = compileFilter(undefined);
    expect(compiled.matches(summary())).toBe(true);
    expect(compiled.valueNeedle).toBeUndefined();
    expect(compiled.description).toBe('all');
    expect(compiled.fingerprint).toBe(filter({}).fingerprint);
  });

  it('matches the reason as a substring and the error class exactly', () => {
    expect(filter({ reason: 'box fu' }).matches(summary())).toBe(true);
    expect(filter({ reason: 'Mailbox' }).matches(summary())).toBe(false);
    expect(filter({ errorClass: 'MailboxFullError' }).matches(summary())).toBe(true);
    expect(filter({ errorClass: 'MailboxFull' }).matches(summary())).toBe(false);
  });

  it('matches the key bytes exactly, and keyless records never match a key', () => {
    expect(filter({ key: Buffer.from('user-1') }).matches(summary())).toBe(true);
    expect(filter({ key: Buffer.from('user-12') }).matches(summary())).toBe(false);
    expect(filter({ key: Buffer.from('user-1') }).matches(summary({ key: undefined }))).toBe(false);
  });

  it('bounds the dead-lettered time as [from, to) and the attempts from below', () => {
    const range = filter({ fromTimeMs: 1_000, toTimeMs: 2_000 });
    expect(range.matches(summary({ deadLetteredAtMs: 999 }))).toBe(false);
    expect(range.matches(summary({ deadLetteredAtMs: 1_000 }))).toBe(true);
    expect(range.matches(summary({ deadLetteredAtMs: 1_999 }))).toBe(true);
    expect(range.matches(summary({ deadLetteredAtMs: 2_000 }))).toBe(false);
    expect(filter({ minAttempts: 4 }).matches(summary())).toBe(false);
    expect(filter({ minAttempts: 3 }).matches(summary())).toBe(true);
  });

  it('leaves the value text to the store and gives equal filters equal fingerprints, different ones different', () => {
    const compiled = filter({ valueContains: 'héllo', reason: 'x' });
    expect(compiled.valueNeedle).toEqual(Buffer.from('héllo'));
    expect(compiled.description).toBe('reason~"x" value~"héllo"');
    expect(compiled.fingerprint).toBe(filter({ reason: 'x', valueContains: 'héllo' }).fingerprint);
    expect(compiled.fingerprint).not.toBe(filter({ reason: 'x' }).fingerprint);
    expect(filter({ minAttempts: 1 }).fingerprint).not.toBe(filter({ fromTimeMs: 1 }).fingerprint);
  });

  it.each([
    [{ fromTimeMs: -1 }, 'filter.from_time_ms'],
    [{ toTimeMs: -5 }, 'filter.to_time_ms'],
    [{ fromTimeMs: 10, toTimeMs: 10 }, 'filter.to_time_ms'],
    [{ minAttempts: -1 }, 'filter.min_attempts'],
  ] as const)('refuses %o with INVALID_ARGUMENT naming %s', (fields, field) => {
    let thrown: unknown;
    try {
      filter(fields);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ reason: 'INVALID_ARGUMENT', metadata: { field } });
    expect(String(thrown)).toContain(field);
  });
});
