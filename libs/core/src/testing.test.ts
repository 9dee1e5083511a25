import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';
import { FakeClock, MemoryLogger } from './testing.js';

describe('FakeClock', () => {
  it('resolves sleeps in due order only as time advances', async () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    void clock.sleep(50).then(() => fired.push('b'));
    void clock.sleep(10).then(() => fired.push('a'));
    await clock.advance(9);
    expect(fired).toEqual([]);
    await clock.advance(41);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(1050);
  });

  it('fires sleeps scheduled by earlier sleeps within one advance', async () => {
    const clock = new FakeClock(0);
    const times: number[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        times.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(100);
    await done;
    expect(times).toEqual([10, 20, 30]);
  });

  it('rejects a sleep when its signal aborts', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(100, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pendingSleeps).toBe(0);
  });
});

describe('seededRandom', () => {
  it('is reproducible and within [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('MemoryLogger', () => {
  it('keeps child bindings on every line', () => {
    const logger = new MemoryLogger();
    logger.child({ topic: 't' }).warn({ offset: 3 }, 'late');
    expect(logger.entries).toEqual([{ level: 'warn', fields: { topic: 't', offset: 3 }, message: 'late' }]);
  });
});
