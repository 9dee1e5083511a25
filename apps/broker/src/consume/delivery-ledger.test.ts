import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import { OffsetRangeSet } from '@braid/storage';
import { DeliveryLedger } from './delivery-ledger.js';

function ledger(cursor = 0, clock = new FakeClock(1_000)): { ledger: DeliveryLedger; clock: FakeClock } {
  return { ledger: new DeliveryLedger({ cursor, acked: new OffsetRangeSet(), attempts: new Map() }, clock), clock };
}

describe('DeliveryLedger', () => {
  it('advances the cursor over contiguous acks and keeps out-of-order acks above it', () => {
    const { ledger: l } = ledger();
    for (let offset = 0; offset < 5; offset++) l.deliver(offset, 'a', undefined, 10, 30_000);
    expect(l.ack('a', 1, 1)).toMatchObject({ applied: 1, notHeld: 0 });
    expect(l.cursor).toBe(0);
    expect(l.ack('a', 0, 0)).toMatchObject({ applied: 1, notHeld: 0 });
    expect(l.cursor).toBe(2);
    expect(l.ack('a', 2, 4)).toMatchObject({ applied: 3, notHeld: 0 });
    expect(l.cursor).toBe(5);
    expect(l.outstanding).toBe(0);
  });

  it('keeps attempt counts only for unsettled offsets: acks, settles and a loaded snapshot drop theirs', () => {
    const { ledger: l } = ledger();
    for (let offset = 0; offset < 6; offset++) l.deliver(offset, 'a', undefined, 10, 30_000);
    const failed = l.fail('a', 1);
    expect(failed).toBeDefined();
    if (failed) l.handBack(failed);
    l.deliver(1, 'a', undefined, 10, 30_000);
    l.ack('a', 2, 3);
    l.ack('a', 0, 1);
    expect(l.cursor).toBe(4);
    expect([...l.snapshot().attempts.keys()]).toEqual([4, 5]);
    l.settle(5);
    expect([...l.snapshot().attempts.keys()]).toEqual([4]);
    expect(l.attemptsOf(4)).toBe(1);
    // A settled offset's count is not restored; a waiting one's is.
    l.restoreAttempts(2, 3);
    l.restoreAttempts(9, 2);
    expect(l.attemptsOf(2)).toBe(0);
    expect(l.attemptsOf(9)).toBe(2);
    // A snapshot saved with stale counts below its cursor loads without them.
    const loaded = new DeliveryLedger({ cursor: 4, acked: new OffsetRangeSet(), attempts: new Map([[1, 2], [4, 1]]) }, new FakeClock(0));
    expect(loaded.attemptsOf(1)).toBe(0);
    expect(loaded.attemptsOf(4)).toBe(1);
  });

  it('refuses to settle what a member does not hold, and treats repeated acks as done', () => {
    const { ledger: l } = ledger();
    l.deliver(0, 'a', undefined, 1, 1000);
    l.deliver(1, 'b', undefined, 1, 1000);
    expect(l.ack('a', 1, 1)).toMatchObject({ applied: 0, notHeld: 1 });
    expect(l.ack('a', 7, 9)).toMatchObject({ applied: 0, notHeld: 3 });
    expect(l.ack('a', 0, 0)).toMatchObject({ applied: 1, notHeld: 0 });
    expect(l.ack('a', 0, 0)).toMatchObject({ applied: 1, notHeld: 0 });
    expect(l.heldBy('b')).toBe(1);
  });

  it('redelivers an expired lease with attempt + 1, lowest offset first', async () => {
    const { ledger: l, clock } = ledger();
    const first = l.deliver(3, 'a', undefined, 1, 1000);
    l.deliver(2, 'a', undefined, 1, 5000);
    expect(first.attempt).toBe(1);
    expect(l.nextDeadline()).toBe(clock.now() + 1000);
    await clock.advance(1000);
    const expired = l.expire();
    expect(expired.map((e) => e.offset)).toEqual([3]);
    // Ending a lease does not decide what comes next: the dispatcher requeues.
    expect(l.nextRedelivery()).toBeUndefined();
    l.requeue(3);
    expect(l.nextRedelivery()).toBe(3);
    expect(l.ack('a', 3, 3)).toMatchObject({ applied: 0, notHeld: 1 });
    const again = l.deliver(3, 'b', undefined, 1, 1000);
    expect(again.attempt).toBe(2);
    expect(l.nextRedelivery()).toBeUndefined();
  });

  it('extends leases only for the holder', async () => {
    const { ledger: l, clock } = ledger();
    l.deliver(0, 'a', undefined, 1, 1000);
    expect(l.extend('b', 0, 0, 10_000)).toMatchObject({ applied: 0, notHeld: 1 });
    expect(l.extend('a', 0, 0, 10_000)).toMatchObject({ applied: 1, notHeld: 0 });
    await clock.advance(5000);
    expect(l.expire()).toEqual([]);
    await clock.advance(5000);
    expect(l.expire().map((e) => e.offset)).toEqual([0]);
  });

  it('ends the leases of a departed member; handed-back records keep their attempt count', () => {
    const { ledger: l } = ledger();
    for (let offset = 0; offset < 4; offset++) l.deliver(offset, offset % 2 === 0 ? 'a' : 'b', undefined, 1, 1000);
    const released = l.release('a');
    expect(released.map((e) => e.offset).sort()).toEqual([0, 2]);
    for (const lease of released) l.handBack(lease);
    expect(l.redeliveries()).toEqual([0, 2]);
    expect(l.heldBy('a')).toBe(0);
    expect(l.heldBy('b')).toBe(2);
    expect(l.deliver(0, 'b', undefined, 1, 1000).attempt).toBe(1);
  });

  it('resumes from a persisted snapshot: cursor, acks above it and attempt counts', () => {
    const { ledger: l, clock } = ledger();
    for (let offset = 0; offset < 6; offset++) l.deliver(offset, 'a', undefined, 1, 1000);
    l.ack('a', 0, 1);
    l.ack('a', 4, 4);
    const snapshot = l.snapshot();
    const restored = new DeliveryLedger(
      { cursor: snapshot.cursor, acked: OffsetRangeSet.decode(snapshot.acked.encode()), attempts: new Map(snapshot.attempts) },
      clock,
    );
    expect(restored.cursor).toBe(2);
    expect(restored.needsDelivery(2)).toBe(true);
    expect(restored.needsDelivery(4)).toBe(false);
    // Offset 3 was delivered once before the restart: this is attempt 2.
    expect(restored.deliver(3, 'b', undefined, 1, 1000).attempt).toBe(2);
  });

  it('walks huge ack ranges over the leases, not offset by offset', () => {
    const { ledger: l } = ledger(1_000_000);
    l.deliver(1_000_005, 'a', undefined, 1, 1000);
    // Walking 2^40 offsets one by one would never finish within the test's timeout.
    expect(l.ack('a', 0, 2 ** 40)).toMatchObject({ applied: 1, notHeld: 0 });
    expect(l.cursor).toBe(1_000_000);
  });

  it('parks failed records until they are woken, and settles dead-lettered ones', () => {
    const { ledger: l } = ledger();
    for (let offset = 0; offset < 3; offset++) l.deliver(offset, 'a', undefined, 1, 1000);
    const failed = l.fail('a', 0);
    expect(failed?.attempt).toBe(1);
    expect(l.fail('a', 0)).toBeUndefined();
    l.wait(0);
    expect(l.needsDelivery(0)).toBe(false);
    expect(l.pendingRedeliveries).toBe(1);
    expect(l.wake(0)).toBe(true);
    expect(l.wake(0)).toBe(false);
    expect(l.deliver(0, 'b', undefined, 1, 1000).attempt).toBe(2);
    l.ack('a', 1, 2);
    expect(l.cursor).toBe(0);
    l.fail('b', 0);
    l.wait(0);
    l.settle(0);
    expect(l.cursor).toBe(3);
    expect(l.waiting).toBe(0);
  });

  it('will not hand out a record twice at once', () => {
    const { ledger: l } = ledger();
    l.deliver(0, 'a', undefined, 1, 1000);
    expect(() => l.deliver(0, 'b', undefined, 1, 1000)).toThrow(/already out/);
  });
});
