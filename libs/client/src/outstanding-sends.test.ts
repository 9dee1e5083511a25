import { describe, expect, it } from 'vitest';
import { UnavailableError } from '@braid/core';
import { OutstandingSends } from './outstanding-sends.js';
import { SendCompletion } from './send-completion.js';

function calls(n: number): { outstanding: OutstandingSends; completions: SendCompletion[] } {
  const outstanding = new OutstandingSends();
  const completions = Array.from({ length: n }, () => {
    const completion = new SendCompletion(1, true, () => undefined, () => undefined, outstanding);
    outstanding.add(completion);
    return completion;
  });
  return { outstanding, completions };
}

async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('OutstandingSends', () => {
  it('resolves whenDone once every call made before it finished, in whatever order they finish', async () => {
    const { outstanding, completions } = calls(3);
    const flushed = outstanding.whenDone();
    completions[2]?.succeed(0, 0, 2);
    completions[0]?.succeed(0, 0, 0);
    expect(outstanding.size).toBe(1);
    expect(await settled(flushed)).toBe(false);
    completions[1]?.fail(new UnavailableError('broker gone'));
    expect(await settled(flushed)).toBe(true);
    expect(outstanding.size).toBe(0);
    expect(await settled(outstanding.whenDone())).toBe(true);
  });

  it('does not wait for calls made after whenDone', async () => {
    const { outstanding, completions } = calls(1);
    const flushed = outstanding.whenDone();
    const later = new SendCompletion(1, true, () => undefined, () => undefined, outstanding);
    outstanding.add(later);
    completions[0]?.succeed(0, 0, 0);
    expect(await settled(flushed)).toBe(true);
    expect(await settled(outstanding.whenDone())).toBe(false);
    later.succeed(0, 0, 1);
    expect(await settled(outstanding.whenDone())).toBe(true);
  });

  it('keeps its index right across many calls (the finished prefix is dropped)', async () => {
    const { outstanding, completions } = calls(5000);
    // Finish all but one, in reverse order; then the straggler.
    for (let i = completions.length - 1; i >= 1; i--) completions[i]?.succeed(0, 0, i);
    const flushed = outstanding.whenDone();
    expect(await settled(flushed)).toBe(false);
    completions[0]?.succeed(0, 0, 0);
    expect(await settled(flushed)).toBe(true);
    for (let round = 0; round < 3; round++) {
      const batch = Array.from({ length: 2000 }, () => {
        const completion = new SendCompletion(1, true, () => undefined, () => undefined, outstanding);
        outstanding.add(completion);
        return completion;
      });
      const waiting = outstanding.whenDone();
      for (const completion of batch) completion.succeed(0, 0, 0);
      expect(await settled(waiting)).toBe(true);
    }
    expect(outstanding.size).toBe(0);
  });
});
