import { InvalidArgumentError, InvalidNameError } from '@braid/core';
import { describe, expect, it } from 'vitest';
import { retryLedgerLimits } from './defaults.js';
import { retryDueKey } from './keys.js';
import {
  assertRetryState,
  compareDuePositions,
  decodeRetryState,
  duePositionOf,
  encodeRetryState,
  peekRetryDue,
  waitsForTimer,
} from './retry-state.js';
import type { AttemptEntry, DuePosition, RetryKey, RetryState } from './retry-state.js';

const key: RetryKey = { topicId: 3, partition: 1, subscription: 'push', offset: 42 };

function entry(attempt: number, overrides: Partial<AttemptEntry> = {}): AttemptEntry {
  return { attempt, timeMs: 1_700_000_000_000 + attempt, memberId: 'm-1', disposition: 'nack', reason: `failure ${attempt}`, errorClass: 'TimeoutError', ...overrides };
}

function state(overrides: Partial<RetryState> = {}): RetryState {
  return { ...key, attempts: [entry(1)], dueMs: 1_700_000_005_000, deadLettering: false, ...overrides };
}

const roundTrip = (s: RetryState): RetryState => decodeRetryState(s, encodeRetryState(s));

describe('retry state', () => {
  it('encodes version, flags, due time, dropped count and ledger entries as documented', () => {
    const s = state({ dueMs: 1000, attempts: [{ attempt: 1, timeMs: 300, memberId: 'm1', disposition: 'nack', reason: 'x', errorClass: '' }] });
    expect(encodeRetryState(s).toString('hex')).toBe(
      '01' + // version
        '00' + // flags: not dead-lettering
        'e807' + // dueMs 1000
        '00' + // dropped 0
        '01' + // one entry
        '01' + 'ac02' + '01' + // attempt 1, timeMs 300, nack
        '026d31' + '0178' + '00', // memberId "m1", reason "x", errorClass ""
    );
    expect(encodeRetryState(state({ dueMs: 0, deadLettering: true, attempts: [] })).toString('hex')).toBe('0101000000');
  });

  it('round-trips every field and every disposition', () => {
    const attempts: AttemptEntry[] = [
      entry(1, { disposition: 'nack', reason: 'HTTP 503', errorClass: 'UpstreamError' }),
      entry(2, { disposition: 'lease_expired', reason: 'lease_expired', errorClass: '', memberId: 'm-2' }),
      entry(3, { disposition: 'member_left', reason: 'member left', timeMs: 0 }),
      entry(4, { disposition: 'reject', reason: 'bad JSON: ünïcödé 🙂', errorClass: 'SyntaxError' }),
    ];
    const s = state({ attempts, dueMs: Number.MAX_SAFE_INTEGER, offset: 2 ** 40 });
    expect(roundTrip(s)).toEqual({ ...s, droppedAttempts: 0 });
    expect(roundTrip(state({ deadLettering: true, dueMs: 0 }))).toMatchObject({ deadLettering: true, dueMs: 0 });
  });

  it('keeps the first 2 and the last 30 ledger entries and counts the dropped ones, cumulatively', () => {
    const { headEntries, tailEntries } = retryLedgerLimits;
    expect([headEntries, tailEntries]).toEqual([2, 30]);
    const long = state({ attempts: Array.from({ length: 100 }, (_, i) => entry(i + 1)) });
    const stored = roundTrip(long);
    expect(stored.attempts.map((a) => a.attempt)).toEqual([1, 2, ...Array.from({ length: 30 }, (_, i) => 71 + i)]);
    expect(stored.droppedAttempts).toBe(68);
    expect(long.attempts).toHaveLength(100); // the caller's state is untouched

    // A state read back, given one more attempt and stored again, drops one more.
    stored.attempts.push(entry(101));
    const again = roundTrip(stored);
    expect(again.attempts.map((a) => a.attempt)).toEqual([1, 2, ...Array.from({ length: 30 }, (_, i) => 72 + i)]);
    expect(again.droppedAttempts).toBe(69);
    // Exactly at the bound nothing is dropped.
    expect(roundTrip(state({ attempts: Array.from({ length: 32 }, (_, i) => entry(i + 1)) })).droppedAttempts).toBe(0);
  });

  it('cuts long strings at a character boundary, so a stored state stays small whatever consumers send', () => {
    const huge = 'é'.repeat(10_000); // 2 bytes each
    const s = roundTrip(state({ attempts: Array.from({ length: 1000 }, (_, i) => entry(i + 1, { reason: huge, memberId: '🙂'.repeat(100), errorClass: 'x'.repeat(1000) })) }));
    const first = s.attempts[0];
    expect(Buffer.byteLength(first?.reason ?? '')).toBe(1024);
    expect(first?.reason).toBe('é'.repeat(512));
    expect(first?.memberId).toBe('🙂'.repeat(64)); // 4 bytes each: 256 bytes
    expect(first?.errorClass).toBe('x'.repeat(256));
    // 1,000 attempts with 20 KB reasons: 32 entries of ~1.5 KB.
    expect(encodeRetryState(s).length).toBeLessThan(50_000);
    // A cut through a 4-byte character backs off to the character before it.
    const odd = roundTrip(state({ attempts: [entry(1, { memberId: 'a' + '🙂'.repeat(100) })] }));
    expect(odd.attempts[0]?.memberId).toBe('a' + '🙂'.repeat(63));
  });

  it("reads the due time and dead-lettering flag from a value's header alone", () => {
    expect(peekRetryDue(encodeRetryState(state({ dueMs: 2 ** 45, attempts: Array.from({ length: 40 }, (_, i) => entry(i + 1)) })))).toEqual({ dueMs: 2 ** 45, deadLettering: false });
    expect(peekRetryDue(encodeRetryState(state({ dueMs: 7, deadLettering: true })))).toEqual({ dueMs: 7, deadLettering: true });
    expect(() => peekRetryDue(Buffer.from([2, 0, 7]))).toThrow(/version 2/);
    expect(() => peekRetryDue(Buffer.from([1, 4, 7]))).toThrow(/flags/);
  });

  it('tells which states wait for a timer: a due time, and not dead-lettering', () => {
    expect(waitsForTimer({ dueMs: 5, deadLettering: false })).toBe(true);
    expect(waitsForTimer({ dueMs: 0, deadLettering: false })).toBe(false);
    expect(waitsForTimer({ dueMs: 5, deadLettering: true })).toBe(false);
  });

  it('rejects states that are not well-formed', () => {
    const bad: [Partial<RetryState> | Record<string, unknown>, typeof InvalidArgumentError | typeof InvalidNameError][] = [
      [{ topicId: -1 }, InvalidArgumentError],
      [{ topicId: 2 ** 32 }, InvalidArgumentError],
      [{ partition: 1.5 }, InvalidArgumentError],
      [{ offset: -1 }, InvalidArgumentError],
      [{ offset: 2 ** 53 }, InvalidArgumentError],
      [{ dueMs: Number.NaN }, InvalidArgumentError],
      [{ subscription: 'no/slash' }, InvalidNameError],
      [{ subscription: 7 }, InvalidArgumentError],
      [{ deadLettering: 'yes' }, InvalidArgumentError],
      [{ attempts: new Set() }, InvalidArgumentError],
      [{ droppedAttempts: -2 }, InvalidArgumentError],
      [{ attempts: [null] }, InvalidArgumentError],
      [{ attempts: [entry(0.5)] }, InvalidArgumentError],
      [{ attempts: [entry(1, { timeMs: -5 })] }, InvalidArgumentError],
      [{ attempts: [entry(1, { disposition: 'ack' as 'nack' })] }, InvalidArgumentError],
      [{ attempts: [entry(1, { reason: undefined as unknown as string })] }, InvalidArgumentError],
      [{ attempts: [entry(1, { memberId: 3 as unknown as string })] }, InvalidArgumentError],
    ];
    for (const [overrides, error] of bad) {
      expect(() => { assertRetryState({ ...state(), ...overrides }); }, JSON.stringify(overrides)).toThrow(error);
    }
    expect(() => { assertRetryState(null as unknown as RetryState); }).toThrow(InvalidArgumentError);
    assertRetryState(state());
  });

  it('refuses unknown versions, flags and dispositions, and malformed values', () => {
    const good = encodeRetryState(state());
    expect(() => decodeRetryState(key, Buffer.concat([Buffer.from([2]), good.subarray(1)]))).toThrow(/version 2/);
    expect(() => decodeRetryState(key, Buffer.concat([Buffer.from([1, 0x02]), good.subarray(2)]))).toThrow(/flags/);
    expect(() => decodeRetryState(key, good.subarray(0, good.length - 1))).toThrow(RangeError);
    expect(() => decodeRetryState(key, Buffer.concat([good, Buffer.from([0])]))).toThrow(RangeError);
    expect(() => decodeRetryState(key, Buffer.alloc(0))).toThrow(RangeError);
    const s = state({ dueMs: 1000, attempts: [{ attempt: 1, timeMs: 300, memberId: '', disposition: 'nack', reason: '', errorClass: '' }] });
    const bytes = encodeRetryState(s);
    bytes[9] = 9; // the disposition byte: [01][00][e807][00][01][01][ac02] -> index 9
    expect(() => decodeRetryState(key, bytes)).toThrow(/disposition 9/);
  });

  it('orders due positions exactly as the due index sorts its keys', () => {
    const names = ['a', 'a-b', 'a.b', 'a0', 'aB', 'b', 'Z', '_'];
    const states: RetryState[] = [];
    for (const dueMs of [1, 255, 256, 2 ** 32, 2 ** 40]) {
      for (const topicId of [0, 1, 2 ** 32 - 1]) {
        for (const subscription of names) {
          for (const offset of [0, 256, 2 ** 33]) states.push(state({ dueMs, topicId, partition: offset % 3, subscription, offset }));
        }
      }
    }
    const dueKeyOf = (s: RetryState): Buffer => retryDueKey(s.dueMs, s.topicId, s.partition, s.subscription, s.offset);
    const byKey = [...states].sort((a, b) => Buffer.compare(dueKeyOf(a), dueKeyOf(b)));
    const byPosition = [...states].sort((a, b) => compareDuePositions(duePositionOf(a), duePositionOf(b)));
    expect(byPosition).toEqual(byKey);

    // A position without a key comes after every key of its due time and before the next due time.
    const end: DuePosition = { dueMs: 256 };
    expect(compareDuePositions(duePositionOf(state({ dueMs: 256, topicId: 2 ** 32 - 1 })), end)).toBeLessThan(0);
    expect(compareDuePositions(end, duePositionOf(state({ dueMs: 257, topicId: 0 })))).toBeLessThan(0);
    expect(compareDuePositions(end, { dueMs: 256 })).toBe(0);
  });
});
