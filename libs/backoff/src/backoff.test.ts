import { seededRandom } from '@braid/core';
import { FakeClock } from '@braid/core/testing';
import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';
import { computeDelay } from './compute-delay.js';

function drain(backoff: Backoff): number[] {
  const delays: number[] = [];
  for (let d = backoff.next(); d !== undefined; d = backoff.next()) delays.push(d);
  return delays;
}

describe('Backoff', () => {
  it('returns maxAttempts - 1 delays, then undefined for good', () => {
    const backoff = new Backoff({ initialDelayMs: 10, jitter: 'none', maxAttempts: 4, clock: new FakeClock() });
    expect(drain(backoff)).toEqual([10, 20, 40]);
    expect(backoff.attempts).toBe(4);
    expect(backoff.exhaustedBy).toBe('attempts');
    expect(backoff.next()).toBeUndefined();
    expect(backoff.attempts).toBe(4);
  });

  it('does not retry at all with maxAttempts 1', () => {
    const backoff = new Backoff({ maxAttempts: 1, clock: new FakeClock() });
    expect(backoff.next()).toBeUndefined();
    expect(backoff.attempts).toBe(1);
    expect(backoff.exhaustedBy).toBe('attempts');
  });

  it('keeps going with maxAttempts Infinity', () => {
    const backoff = new Backoff({ maxAttempts: Infinity, jitter: 'none', maxDelayMs: 5000, clock: new FakeClock() });
    for (let i = 0; i < 1000; i += 1) expect(backoff.next()).toBeDefined();
    expect(backoff.next()).toBe(5000);
  });

  it('gives up at once when the deadline is shorter than the first delay', () => {
    const backoff = new Backoff({ initialDelayMs: 1000, jitter: 'none', deadlineMs: 500, clock: new FakeClock() });
    expect(backoff.next()).toBeUndefined();
    expect(backoff.exhaustedBy).toBe('deadline');
  });

  it('counts the deadline from construction, including time spent in attempts', async () => {
    const clock = new FakeClock();
    const backoff = new Backoff({ initialDelayMs: 100, jitter: 'none', deadlineMs: 1000, clock });
    await clock.advance(300); // attempt 1 ran for 300ms
    expect(backoff.next()).toBe(100); // attempt 2 at 400
    await clock.advance(100 + 300); // attempt 2 ran for 300ms: now 700
    expect(backoff.next()).toBe(200); // attempt 3 at 900
    await clock.advance(200 + 300); // attempt 3 ran for 300ms: now 1200
    // The delays alone (100 + 200 + 400) fit in 1000ms; the elapsed time does not.
    expect(backoff.next()).toBeUndefined();
    expect(backoff.exhaustedBy).toBe('deadline');
    expect(backoff.attempts).toBe(3);
  });

  it('allows a retry that starts before the deadline and refuses one starting at it', async () => {
    const clock = new FakeClock();
    const policy = { initialDelayMs: 100, jitter: 'none', deadlineMs: 1000, clock } as const;
    const early = new Backoff(policy);
    await clock.advance(899);
    expect(early.next()).toBe(100); // would start at 999

    const exact = new Backoff(policy);
    await clock.advance(900);
    expect(exact.next()).toBeUndefined(); // would start at 1000
    expect(exact.exhaustedBy).toBe('deadline');
  });

  it('reset() restarts attempts, the delay sequence and the deadline', async () => {
    const clock = new FakeClock();
    const backoff = new Backoff({ initialDelayMs: 10, jitter: 'none', maxAttempts: 3, deadlineMs: 100, clock });
    expect(drain(backoff)).toEqual([10, 20]);
    await clock.advance(1000);
    expect(backoff.next()).toBeUndefined();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.exhaustedBy).toBeUndefined();
    expect(drain(backoff)).toEqual([10, 20]);
  });

  it('chains decorrelated jitter through the previous delay, like computeDelay', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 20_000, jitter: 'decorrelated', maxAttempts: 50 } as const;
    const backoff = new Backoff({ ...policy, clock: new FakeClock(), random: seededRandom(9) });
    const expected: number[] = [];
    const random = seededRandom(9);
    let previous: number | undefined;
    for (let attempt = 1; attempt < 50; attempt += 1) {
      previous = computeDelay(policy, attempt, previous, random);
      expected.push(previous);
    }
    const actual = drain(backoff);
    expect(actual).toEqual(expected);
    // Not the same as feeding no previous delay: later delays exceed 3 * initial.
    expect(Math.max(...actual)).toBeGreaterThan(300);
  });

  it('forgets the previous delay on reset()', () => {
    const policy = { initialDelayMs: 100, jitter: 'decorrelated', maxAttempts: 20 } as const;
    const backoff = new Backoff({ ...policy, clock: new FakeClock(), random: seededRandom(3) });
    drain(backoff);
    backoff.reset();
    const first = backoff.next();
    expect(first).toBeGreaterThanOrEqual(100);
    expect(first).toBeLessThanOrEqual(300);
  });

  it('rejects invalid options at construction', () => {
    expect(() => new Backoff({ maxAttempts: 0 })).toThrow(/"maxAttempts"/);
  });
});
