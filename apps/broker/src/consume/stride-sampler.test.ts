import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import { StrideSampler } from './stride-sampler.js';

/** Offers `count` events (one batch) and returns how many were taken. */
function offer(sampler: StrideSampler, count: number): number {
  sampler.tick();
  let taken = 0;
  for (let i = 0; i < count; i++) if (sampler.take()) taken++;
  return taken;
}

describe('StrideSampler', () => {
  it('takes every event while fewer than its rate arrive', async () => {
    const clock = new FakeClock();
    const sampler = new StrideSampler(1000, clock);
    for (let second = 0; second < 3; second++) {
      expect(offer(sampler, 900)).toBe(900);
      await clock.advance(1000);
    }
  });

  it('takes about its rate per second, evenly, once more arrive, and all again when they slow down', async () => {
    const clock = new FakeClock();
    const sampler = new StrideSampler(1000, clock);
    // The first second takes everything: the rate is not known yet.
    expect(offer(sampler, 10_000)).toBe(10_000);
    await clock.advance(1000);
    // Then every 10th, in batches of any size.
    let taken = 0;
    for (let batch = 0; batch < 100; batch++) taken += offer(sampler, 100);
    expect(taken).toBe(1000);
    await clock.advance(1000);
    expect(offer(sampler, 25)).toBe(3);
    await clock.advance(1000);
    expect(offer(sampler, 25)).toBe(25);
  });
});
