import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import { RedrivePacer } from './redrive-pacer.js';

/** Fake milliseconds `pacer` takes to admit `records` in its chunks. */
async function fakeDuration(pacer: RedrivePacer, clock: FakeClock, records: number): Promise<number> {
  const started = clock.now();
  let admitted = 0;
  const run = (async () => {
    while (admitted < records) {
      const chunk = Math.min(pacer.chunkRecords, records - admitted);
      await pacer.admit(chunk);
      admitted += chunk;
    }
  })();
  while (admitted < records) await clock.advance(10);
  await run;
  return clock.now() - started;
}

describe('RedrivePacer', () => {
  it('admits 10,000 records at 1,000/s in chunks of 100 over ~9.9 s, without an up-front burst of a second', async () => {
    const clock = new FakeClock();
    const pacer = new RedrivePacer(1000, clock);
    expect(pacer.chunkRecords).toBe(100);
    const ms = await fakeDuration(pacer, clock, 10_000);
    expect(ms).toBeGreaterThanOrEqual(9_900);
    expect(ms).toBeLessThanOrEqual(10_000);
  });

  it('paces slow rates one record at a time', async () => {
    const clock = new FakeClock();
    const pacer = new RedrivePacer(4, clock);
    expect(pacer.chunkRecords).toBe(1);
    // The first record goes at once, the next 7 at 250 ms intervals.
    expect(await fakeDuration(pacer, clock, 8)).toBe(1_750);
  });

  it('does not wait at all when unlimited (0)', async () => {
    const clock = new FakeClock();
    const pacer = new RedrivePacer(0, clock);
    for (let i = 0; i < 1_000; i++) await pacer.admit(pacer.chunkRecords);
    expect(clock.now()).toBe(new FakeClock().now());
  });

  it('refuses a negative rate', () => {
    expect(() => new RedrivePacer(-1, new FakeClock())).toThrow(RangeError);
    expect(() => new RedrivePacer(Number.NaN, new FakeClock())).toThrow(RangeError);
  });
});
